"""Fused Adamax, NAdam and RAdam updates: one pass over memory per parameter each, with the
arithmetic of ``torch.optim``'s single-tensor paths in the same order (``_single_tensor_adamax``,
``_single_tensor_nadam``, ``_single_tensor_radam``), so the numbers match PyTorch's to rounding.

The scalars PyTorch forms in Python doubles (bias corrections, NAdam's momentum products, RAdam's
rectification) are formed the same way by the optimizers (``minitorch/optim/adam_variants.py``)
and come in cast to the arrays' dtype.
"""
import math

from numba import njit, prange

from ._optim_grad import adam_moments_, decayed_grad, lerp
from .twin import serial_twin

__all__ = ["adamax_update_", "adamax_update_serial_", "nadam_update_", "nadam_update_serial_",
           "radam_update_", "radam_update_serial_"]


@njit(cache=True, parallel=True)
def adamax_update_(param, exp_avg, exp_inf, grad, weight_decay, beta1_weight,
                   one_minus_beta1_weight, beta2, eps, neg_clr, maximize):
    """Adamax: ``exp_avg = lerp(exp_avg, g, 1 - beta1)``, ``exp_inf = maximum(exp_inf * beta2,
    |g| + eps)`` (NaN if either is), ``param += neg_clr * exp_avg / exp_inf`` with
    ``neg_clr = -lr / (1 - beta1**step)``.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        g, p = decayed_grad(param, grad, i, weight_decay, maximize)
        m = lerp(exp_avg[i], g, beta1_weight, one_minus_beta1_weight)
        exp_avg[i] = m
        a = exp_inf[i] * beta2
        b = abs(g) + eps
        u = a if a > b else b
        if a != a:                            # torch.maximum propagates NaN
            u = a
        exp_inf[i] = u
        param[i] = p + neg_clr * m / u        # param.addcdiv_(exp_avg, exp_inf, value=-clr)


@njit(cache=True, parallel=True)
def nadam_update_(param, exp_avg, exp_avg_sq, grad, decay_factor, weight_decay, beta1_weight,
                  one_minus_beta1_weight, beta2, one_minus_beta2, bias_correction2, eps,
                  grad_coef, avg_coef, maximize, decoupled):
    """NAdam: the moments, ``denom = sqrt(exp_avg_sq / bias_correction2) + eps``, then
    ``param += grad_coef * g / denom`` and ``param += avg_coef * exp_avg / denom`` (two
    roundings, as PyTorch's two ``addcdiv_``), with ``grad_coef = -lr * (1 - mu) /
    (1 - mu_product)`` and ``avg_coef = -lr * mu_next / (1 - mu_product * mu_next)``.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        g, p, m, v = adam_moments_(param, exp_avg, exp_avg_sq, grad, i, decay_factor,
                                   weight_decay, beta1_weight, one_minus_beta1_weight, beta2,
                                   one_minus_beta2, maximize, decoupled)
        denom = math.sqrt(v / bias_correction2) + eps
        p = p + grad_coef * g / denom
        param[i] = p + avg_coef * m / denom


@njit(cache=True, parallel=True)
def radam_update_(param, exp_avg, exp_avg_sq, grad, decay_factor, weight_decay, beta1_weight,
                  one_minus_beta1_weight, beta2, one_minus_beta2, bias_correction1, lr,
                  bias_correction2_sqrt, eps, rect, rectified, maximize, decoupled):
    """RAdam: the moments, then ``param -= exp_avg / bias_correction1 * lr * (sqrt(bc2) /
    (sqrt(exp_avg_sq) + eps)) * rect`` when the variance is tractable (``rectified``: PyTorch's
    ``rho_t > 5``; a scalar, since each parameter has its own step count), else
    ``param -= exp_avg / bias_correction1 * lr``.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        g, p, m, v = adam_moments_(param, exp_avg, exp_avg_sq, grad, i, decay_factor,
                                   weight_decay, beta1_weight, one_minus_beta1_weight, beta2,
                                   one_minus_beta2, maximize, decoupled)
        step = m / bias_correction1 * lr
        if rectified:
            step = step * (bias_correction2_sqrt / (math.sqrt(v) + eps)) * rect
        param[i] = p - step


adamax_update_serial_ = serial_twin(adamax_update_, "adamax_update_serial_")
nadam_update_serial_ = serial_twin(nadam_update_, "nadam_update_serial_")
radam_update_serial_ = serial_twin(radam_update_, "radam_update_serial_")
