"""Fused Adam / AdamW update: decay, both moments, amsgrad's maximum and the step in one pass.

PyTorch's single-tensor Adam makes about eight passes over memory per parameter (``neg``,
``add``/``mul_`` for the decay, ``lerp_``, ``mul_`` + ``addcmul_``, ``maximum``, ``sqrt``, ``div``,
``add_``, ``addcdiv_``); this kernel reads and writes each element once, with the same arithmetic
in the same order, so the numbers match PyTorch's to rounding.
"""
import math

from numba import njit, prange

from ._optim_grad import adam_moments_

__all__ = ["adam_update_", "adam_update_serial_"]


@njit(cache=True)
def _update_element_(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, i, decay_factor,
                     weight_decay, beta1_weight, one_minus_beta1_weight, beta2, one_minus_beta2,
                     bias_correction2_sqrt, eps, neg_step_size, amsgrad, maximize, decoupled):
    """Element ``i``; the one statement of the arithmetic, shared by both kernels."""
    g, p, m, v = adam_moments_(param, exp_avg, exp_avg_sq, grad, i, decay_factor, weight_decay,
                               beta1_weight, one_minus_beta1_weight, beta2, one_minus_beta2,
                               maximize, decoupled)
    if amsgrad:
        if max_exp_avg_sq[i] > v:
            v = max_exp_avg_sq[i]
        max_exp_avg_sq[i] = v
    denom = math.sqrt(v) / bias_correction2_sqrt + eps
    param[i] = p + neg_step_size * m / denom  # addcdiv_(exp_avg, denom, value=-step_size)


@njit(cache=True, parallel=True)
def adam_update_(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, decay_factor, weight_decay,
                 beta1_weight, one_minus_beta1_weight, beta2, one_minus_beta2,
                 bias_correction2_sqrt, eps, neg_step_size, amsgrad, maximize, decoupled):
    """Update ``param`` and the moment buffers in place; 1-D C-contiguous arrays of one dtype.

    Per element, in PyTorch's order (``torch.optim.adam._single_tensor_adam``):
        g = -grad if maximize else grad
        param = param * decay_factor         (decoupled, i.e. AdamW; decay_factor = 1 - lr*wd)
        g = g + weight_decay * param         (coupled, i.e. Adam, when weight_decay != 0)
        exp_avg = lerp(exp_avg, g, beta1_weight)          (beta1_weight = 1 - beta1)
        exp_avg_sq = exp_avg_sq * beta2 + one_minus_beta2 * g * g
        max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)  (amsgrad only; used below)
        param = param + neg_step_size * exp_avg / (sqrt(v) / bias_correction2_sqrt + eps)

    ``max_exp_avg_sq`` may be empty when ``amsgrad`` is 0. The float scalars come in with the
    arrays' dtype, formed in Python (double) first as PyTorch forms them.

    Parallel axis: the flat element index; iteration ``i`` reads and writes only element ``i`` of
    each array, so the split is race-free.
    """
    for i in prange(param.shape[0]):
        _update_element_(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, i, decay_factor,
                         weight_decay, beta1_weight, one_minus_beta1_weight, beta2,
                         one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size, amsgrad,
                         maximize, decoupled)


@njit(cache=True)
def adam_update_serial_(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, decay_factor,
                        weight_decay, beta1_weight, one_minus_beta1_weight, beta2,
                        one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size, amsgrad,
                        maximize, decoupled):
    """``adam_update_`` in one thread, bitwise the same numbers (for small parameters)."""
    for i in range(param.shape[0]):
        _update_element_(param, exp_avg, exp_avg_sq, max_exp_avg_sq, grad, i, decay_factor,
                         weight_decay, beta1_weight, one_minus_beta1_weight, beta2,
                         one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size, amsgrad,
                         maximize, decoupled)
