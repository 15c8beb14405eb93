"""Fused SGD update: weight decay, momentum buffer, nesterov and the lr step in one pass.

PyTorch's single-tensor SGD makes up to five passes over memory per parameter (``grad.add``,
``buf.mul_``, ``buf.add_``, ``grad.add`` for nesterov, ``param.add_``); this kernel reads each
element of ``param``, ``grad`` and ``buf`` once and writes ``param`` and ``buf`` once, with the
same arithmetic in the same order, so the numbers match PyTorch's to rounding.
"""
from numba import njit, prange

__all__ = ["sgd_update_", "sgd_update_serial_"]


@njit(cache=True)
def _update_element_(param, buf, grad, i, lr, momentum, one_minus_dampening, weight_decay,
                     nesterov, maximize, use_momentum, init_buf):
    """Element ``i`` of the update; the one statement of the arithmetic, shared by the parallel
    and the serial kernel so that both give bitwise the same numbers."""
    g = grad[i]
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * param[i]
    if use_momentum:
        if init_buf:
            b = g
        else:
            b = momentum * buf[i] + one_minus_dampening * g
        buf[i] = b
        if nesterov:
            g = g + momentum * b
        else:
            g = b
    param[i] = param[i] - lr * g


@njit(cache=True, parallel=True)
def sgd_update_(param, buf, grad, lr, momentum, one_minus_dampening, weight_decay,
                nesterov, maximize, use_momentum, init_buf):
    """Update ``param`` (and ``buf``) in place; all arrays are 1-D, C-contiguous, same dtype.

    Per element, in PyTorch's order:
        g = -grad if maximize else grad
        g = g + weight_decay * param                       (only when weight_decay != 0)
        buf = g  (first step)  or  buf = momentum * buf + one_minus_dampening * g
        g = g + momentum * buf  if nesterov  else  buf     (only when use_momentum)
        param = param - lr * g

    ``buf`` is ignored (it may be empty) when ``use_momentum`` is 0. The scalars should have the
    arrays' dtype so float32 parameters are updated in float32 arithmetic, like PyTorch's;
    ``one_minus_dampening`` comes in precomputed because PyTorch forms ``1 - dampening`` in
    Python (double) before casting it, and an int-minus-float32 here would widen to float64.

    Parallel axis: the flat element index. Iteration ``i`` reads ``param[i]``, ``grad[i]``,
    ``buf[i]`` and writes only ``param[i]`` and ``buf[i]``, so iterations touch disjoint memory
    and the split is race-free.
    """
    for i in prange(param.shape[0]):
        _update_element_(param, buf, grad, i, lr, momentum, one_minus_dampening, weight_decay,
                         nesterov, maximize, use_momentum, init_buf)


@njit(cache=True)
def sgd_update_serial_(param, buf, grad, lr, momentum, one_minus_dampening, weight_decay,
                       nesterov, maximize, use_momentum, init_buf):
    """``sgd_update_`` in one thread, bitwise the same numbers: for small parameters (a
    BatchNorm's 64 weights, a bias), where waking the thread pool costs more than the update."""
    for i in range(param.shape[0]):
        _update_element_(param, buf, grad, i, lr, momentum, one_minus_dampening, weight_decay,
                         nesterov, maximize, use_momentum, init_buf)
