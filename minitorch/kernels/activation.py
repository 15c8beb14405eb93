"""Elementwise activation kernels on flat (1-d) arrays.

Parallel over elements: iteration ``i`` writes only element ``i`` of the output, so the split is
race-free (and ``out`` may alias ``x`` for the in-place variant).
"""
from numba import njit, prange

__all__ = ["relu_forward", "relu_backward", "relu_value"]


@njit(cache=True)
def relu_value(v, zero):
    """``max(v, 0)`` for one value, NaN kept (PyTorch's rule), for kernels that fuse a ReLU into
    their last pass; ``zero`` is 0 in ``v``'s dtype, so a float32 expression stays float32."""
    return v if (v > 0 or v != v) else zero


@njit(parallel=True, cache=True)
def relu_forward(out, x):
    """``out = max(x, 0)``, propagating NaN as PyTorch does; ``out`` may be ``x`` (in place)."""
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = v if (v > 0 or v != v) else 0


@njit(parallel=True, cache=True)
def relu_backward(grad_x, grad_out, y):
    """``grad_x = grad_out`` except where the forward output is <= 0 (PyTorch's rule: a NaN
    output passes the gradient)."""
    for i in prange(y.shape[0]):
        grad_x[i] = 0 if y[i] <= 0 else grad_out[i]
