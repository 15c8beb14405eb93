"""GELU kernels (exact erf form and PyTorch's tanh approximation) on flat (1-d) arrays.

Parallel over elements: iteration ``i`` writes only element ``i`` of the output, so the split is
race-free. The transcendental part is evaluated in float64 and rounded once to the data dtype,
which keeps float32 results within rounding of PyTorch's.
"""
import math

from numba import njit, prange

__all__ = ["gelu_forward", "gelu_backward"]

_SQRT1_2 = 0.7071067811865476          # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327     # 1 / sqrt(2 pi)
_SQRT_2_OVER_PI = 0.7978845608028654   # sqrt(2 / pi)
_C = 0.044715


@njit(parallel=True, cache=True)
def gelu_forward(out, x, TANH):
    """``out = x * Phi(x)`` (TANH=0) or ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    for i in prange(x.shape[0]):
        v = float(x[i])
        if TANH:
            out[i] = 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + _C * v * v * v)))
        else:
            out[i] = 0.5 * v * (1.0 + math.erf(v * _SQRT1_2))


@njit(parallel=True, cache=True)
def gelu_backward(grad_x, grad_out, x, TANH):
    """``grad_x = grad_out * d gelu / dx`` at ``x`` (recomputed: forward saves only ``x``)."""
    for i in prange(x.shape[0]):
        v = float(x[i])
        if TANH:
            t = math.tanh(_SQRT_2_OVER_PI * (v + _C * v * v * v))
            d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _SQRT_2_OVER_PI * (
                1.0 + 3.0 * _C * v * v)
        else:
            d = 0.5 * (1.0 + math.erf(v * _SQRT1_2)) + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v)
        grad_x[i] = grad_out[i] * d
