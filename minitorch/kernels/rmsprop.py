"""Fused RMSprop update: the square average, the centred gradient average, momentum and the
step in one pass over memory, in ``torch.optim.rmsprop._single_tensor_rmsprop``'s order."""
import math

from numba import njit, prange

from ._optim_grad import decayed_grad

__all__ = ["rmsprop_update_", "rmsprop_update_serial_"]


@njit(cache=True)
def _update_element_(param, square_avg, grad_avg, momentum_buffer, grad, i, weight_decay, alpha,
                     one_minus_alpha, one_minus_alpha_weight, eps, momentum, neg_lr, centered,
                     use_momentum, maximize):
    """Element ``i``; the one statement of the arithmetic, shared by both kernels."""
    g, p = decayed_grad(param, grad, i, weight_decay, maximize)
    s = square_avg[i] * alpha                     # square_avg.mul_(alpha)
    s = s + one_minus_alpha * g * g               # .addcmul_(grad, grad, value=1 - alpha)
    square_avg[i] = s
    if centered:
        a = grad_avg[i]                           # grad_avg.lerp_(grad, 1 - alpha)
        if one_minus_alpha < 0.5:
            a = a + one_minus_alpha * (g - a)
        else:
            a = g - (g - a) * one_minus_alpha_weight
        grad_avg[i] = a
        s = s + -a * a                            # square_avg.addcmul(grad_avg, grad_avg, -1)
    avg = math.sqrt(s) + eps
    if use_momentum:
        b = momentum_buffer[i] * momentum + g / avg   # buf.mul_(momentum).addcdiv_(grad, avg)
        momentum_buffer[i] = b
        param[i] = p + neg_lr * b                 # param.add_(buf, alpha=-lr)
    else:
        param[i] = p + neg_lr * g / avg           # param.addcdiv_(grad, avg, value=-lr)


@njit(cache=True, parallel=True)
def rmsprop_update_(param, square_avg, grad_avg, momentum_buffer, grad, weight_decay, alpha,
                    one_minus_alpha, one_minus_alpha_weight, eps, momentum, neg_lr, centered,
                    use_momentum, maximize):
    """Update ``param`` and its buffers in place; 1-D C-contiguous arrays of one dtype.

    Per element:
        g = -grad if maximize else grad;  g = g + weight_decay * param
        square_avg = square_avg * alpha + (1 - alpha) * g * g
        centered:  grad_avg = lerp(grad_avg, g, 1 - alpha);  s = square_avg - grad_avg**2
        avg = sqrt(s) + eps
        momentum:  buf = buf * momentum + g / avg;  param = param + neg_lr * buf
        else:      param = param + neg_lr * g / avg

    ``one_minus_alpha_weight`` is ``1 - (1 - alpha)`` in the arrays' dtype, lerp's factor when
    its weight is >= 0.5. ``grad_avg``/``momentum_buffer`` may be empty when unused.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i`` of each
    array, so the split is race-free.
    """
    for i in prange(param.shape[0]):
        _update_element_(param, square_avg, grad_avg, momentum_buffer, grad, i, weight_decay,
                         alpha, one_minus_alpha, one_minus_alpha_weight, eps, momentum, neg_lr,
                         centered, use_momentum, maximize)


@njit(cache=True)
def rmsprop_update_serial_(param, square_avg, grad_avg, momentum_buffer, grad, weight_decay,
                           alpha, one_minus_alpha, one_minus_alpha_weight, eps, momentum, neg_lr,
                           centered, use_momentum, maximize):
    """``rmsprop_update_`` in one thread, bitwise the same numbers (for small parameters)."""
    for i in range(param.shape[0]):
        _update_element_(param, square_avg, grad_avg, momentum_buffer, grad, i, weight_decay,
                         alpha, one_minus_alpha, one_minus_alpha_weight, eps, momentum, neg_lr,
                         centered, use_momentum, maximize)
