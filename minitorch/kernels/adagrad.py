"""Fused Adagrad and Adadelta updates, one pass over memory each, in the order of
``torch.optim.adagrad._single_tensor_adagrad`` and ``adadelta._single_tensor_adadelta``."""
import math

from numba import njit, prange

from ._optim_grad import decayed_grad

__all__ = ["adagrad_update_", "adagrad_update_serial_", "adadelta_update_",
           "adadelta_update_serial_"]


@njit(cache=True)
def _adagrad_element_(param, state_sum, grad, i, weight_decay, eps, neg_clr, maximize):
    g, p = decayed_grad(param, grad, i, weight_decay, maximize)
    s = state_sum[i] + g * g                  # state_sum.addcmul_(grad, grad, value=1)
    state_sum[i] = s
    std = math.sqrt(s) + eps
    param[i] = p + neg_clr * g / std          # param.addcdiv_(grad, std, value=-clr)


@njit(cache=True, parallel=True)
def adagrad_update_(param, state_sum, grad, weight_decay, eps, neg_clr, maximize):
    """``sum += g*g; param += neg_clr * g / (sqrt(sum) + eps)`` with ``g`` the (negated when
    maximizing, decayed) gradient and ``neg_clr = -lr / (1 + (step - 1) * lr_decay)``.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        _adagrad_element_(param, state_sum, grad, i, weight_decay, eps, neg_clr, maximize)


@njit(cache=True)
def adagrad_update_serial_(param, state_sum, grad, weight_decay, eps, neg_clr, maximize):
    """``adagrad_update_`` in one thread, bitwise the same numbers (for small parameters)."""
    for i in range(param.shape[0]):
        _adagrad_element_(param, state_sum, grad, i, weight_decay, eps, neg_clr, maximize)


@njit(cache=True)
def _adadelta_element_(param, square_avg, acc_delta, grad, i, weight_decay, rho, one_minus_rho,
                       eps, neg_lr, maximize):
    g, p = decayed_grad(param, grad, i, weight_decay, maximize)
    s = square_avg[i] * rho + one_minus_rho * g * g    # mul_(rho).addcmul_(g, g, 1 - rho)
    square_avg[i] = s
    std = math.sqrt(s + eps)                           # square_avg.add(eps).sqrt_()
    d = acc_delta[i]
    delta = math.sqrt(d + eps) / std * g               # acc_delta.add(eps).sqrt_()
    #                                                    .div_(std).mul_(grad)
    acc_delta[i] = d * rho + one_minus_rho * delta * delta
    param[i] = p + neg_lr * delta                      # param.add_(delta, alpha=-lr)


@njit(cache=True, parallel=True)
def adadelta_update_(param, square_avg, acc_delta, grad, weight_decay, rho, one_minus_rho, eps,
                     neg_lr, maximize):
    """Adadelta: ``square_avg = rho*square_avg + (1-rho)*g*g``,
    ``delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g``,
    ``acc_delta = rho*acc_delta + (1-rho)*delta*delta``, ``param += neg_lr * delta``.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        _adadelta_element_(param, square_avg, acc_delta, grad, i, weight_decay, rho,
                           one_minus_rho, eps, neg_lr, maximize)


@njit(cache=True)
def adadelta_update_serial_(param, square_avg, acc_delta, grad, weight_decay, rho, one_minus_rho,
                            eps, neg_lr, maximize):
    """``adadelta_update_`` in one thread, bitwise the same numbers (for small parameters)."""
    for i in range(param.shape[0]):
        _adadelta_element_(param, square_avg, acc_delta, grad, i, weight_decay, rho,
                           one_minus_rho, eps, neg_lr, maximize)
