"""Binary cross-entropy kernels (on probabilities, and on logits) over flat (1-d) arrays.

Parallel over elements: iteration ``i`` writes only element ``i`` of each output, so the split
is race-free. Per-element arithmetic is in float64 and rounded once to the output dtype.
``pos_weight`` is a full-size array when ``HAS_PW`` is 1, ignored otherwise.
"""
import math

import numpy as np
from numba import njit, prange

__all__ = ["bce_forward", "bce_backward", "bce_logits_forward", "bce_logits_backward"]

_EPS = 1e-12   # PyTorch's floor on x (1 - x) in the gradient


@njit(cache=True)
def _clamped_log(v):
    # PyTorch clamps each log at -100 so that p = 0 or 1 gives a finite loss
    return max(math.log(v), -100.0) if v > 0 else -100.0


@njit(parallel=True, cache=True)
def bce_forward(out, x, t):
    """``out = -(t log x + (1 - t) log(1 - x))``, logs clamped at -100."""
    for i in prange(x.shape[0]):
        p, y = float(x[i]), float(t[i])
        out[i] = -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p))


@njit(parallel=True, cache=True)
def bce_backward(grad_x, grad_t, g, x, t, NEED_X, NEED_T):
    """``grad_x = g (x - t) / max(x (1 - x), 1e-12)``, ``grad_t = g (log(1-x) - log x)`` (the
    target gradient is unclamped, as PyTorch's: infinite at x = 0 or 1)."""
    for i in prange(x.shape[0]):
        p, y, gi = float(x[i]), float(t[i]), float(g[i])
        if NEED_X:
            grad_x[i] = gi * (p - y) / max((1.0 - p) * p, _EPS)
        if NEED_T:
            grad_t[i] = gi * (np.log1p(-p) - np.log(p))


@njit(cache=True)
def _softplus_neg(v):
    """``log(1 + exp(-v))`` without overflow."""
    return max(-v, 0.0) + math.log1p(math.exp(-abs(v)))


@njit(parallel=True, cache=True)
def bce_logits_forward(out, x, t, pw, HAS_PW):
    """``out = (1 - t) x + lw * log(1 + exp(-x))``, ``lw = 1 + (pos_weight - 1) t``."""
    for i in prange(x.shape[0]):
        v, y = float(x[i]), float(t[i])
        lw = 1.0 + (float(pw[i]) - 1.0) * y if HAS_PW else 1.0
        out[i] = (1.0 - y) * v + lw * _softplus_neg(v)


@njit(parallel=True, cache=True)
def bce_logits_backward(grad_x, grad_t, g, x, t, pw, HAS_PW, NEED_X, NEED_T):
    """d/dx = lw sigmoid(x) - pw t; d/dt = (pw - 1) log(1 + exp(-x)) - x."""
    for i in prange(x.shape[0]):
        v, y, gi = float(x[i]), float(t[i]), float(g[i])
        p = float(pw[i]) if HAS_PW else 1.0
        if NEED_X:
            s = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
            grad_x[i] = gi * ((1.0 + (p - 1.0) * y) * s - p * y)
        if NEED_T:
            grad_t[i] = gi * ((p - 1.0) * _softplus_neg(v) - v)
