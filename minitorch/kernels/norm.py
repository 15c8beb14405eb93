"""Batch-norm kernels over contiguous ``(N, C, P)`` arrays (P = H*W), optionally fused with a
following ReLU.

Every kernel is parallel over channels: all reads and writes of channel ``c`` touch only
``[:, c, :]`` and the per-channel slots ``[c]``, so iterations never share an output element.
Sums accumulate in float64 scalars (no float64 arrays) so float32 statistics over millions of
elements keep PyTorch's precision; per-element arithmetic stays in the data's dtype. Inner loops
index flat views with unsigned offsets so numba drops negative-index checks and vectorises.
"""
import numpy as np
from numba import njit, prange

from .activation import relu_value

__all__ = ["batch_norm_stats", "batch_norm_apply", "batch_norm_backward"]


# Reassociation only (no NaN/inf assumptions): lets LLVM vectorise the float64 channel sums,
# which otherwise run one add at a time. The order of a float64 sum of float32 data is invisible
# at float32 precision.
_SUMS = {"reassoc", "contract"}


@njit(parallel=True, cache=True, fastmath=_SUMS)
def batch_norm_stats(mean, invstd, x, eps):
    """Per-channel batch mean and ``1/sqrt(biased_var + eps)`` of ``x`` (N, C, P), in one pass.

    Parallel over channels (disjoint ``mean[c]``, ``invstd[c]``). Returns the biased variances
    (float64, length C) so the caller can update ``running_var`` without another pass.
    """
    N, C, P = x.shape
    xf = x.reshape(-1)
    var = np.empty(C, dtype=np.float64)
    count = N * P
    for c in prange(C):
        # one pass: float64 sums of x and x*x lose nothing that float32 data can show
        # (cancellation in E[x^2] - E[x]^2 costs ~1e-16 * mean^2/var, far below float32 rounding)
        s = 0.0
        ss = 0.0
        for n in range(N):
            base = (n * C + c) * P
            for p in range(P):
                v = np.float64(xf[np.uint64(base + p)])
                s += v
                ss += v * v
        m = s / count
        v = max(ss / count - m * m, 0.0)
        var[c] = v
        mean[c] = m
        invstd[c] = 1.0 / np.sqrt(v + eps)
    return var


@njit(parallel=True, cache=True)
def batch_norm_apply(y, x, mean, invstd, weight, bias, RELU):
    """``y = (x - mean) * invstd * weight + bias`` per channel, then ``max(y, 0)`` if RELU.

    Parallel over channels: iteration ``c`` writes only ``y[:, c, :]``. The per-channel scale is
    formed in the data's dtype so the element loop has no float64 arithmetic.
    """
    N, C, P = x.shape
    xf, yf = x.reshape(-1), y.reshape(-1)
    zero = np.zeros(1, dtype=x.dtype)[0]
    for c in prange(C):
        # (x - mean) * scale + bias, not x * scale + shift: no cancellation when |mean| >> std
        m = mean[c]
        scale = invstd[c] * weight[c]
        b = bias[c]
        for n in range(N):
            base = (n * C + c) * P
            for p in range(P):
                j = np.uint64(base + p)
                v = (xf[j] - m) * scale + b
                # relu_forward's rule (NaN kept, -0.0 -> +0.0): bitwise BatchNorm then ReLU
                yf[j] = relu_value(v, zero) if RELU else v


@njit(parallel=True, cache=True, fastmath=_SUMS)
def batch_norm_backward(grad_x, grad_weight, grad_bias, grad_out, x, y, mean, invstd, weight,
                        TRAINING, RELU, NEED_GRAD_X, NEED_GRAD_PARAMS):
    """Gradients of ``batch_norm_apply`` (with batch statistics when TRAINING, else constants).

    When RELU, ``y`` is the forward's output and its ReLU mask is ``relu_backward``'s (the
    gradient passes where ``y > 0`` or ``y`` is NaN): one pass instead of a ReLU backward pass
    and the BatchNorm's. The mask is read, not recomputed from ``x``: this kernel's float
    contraction could round ``(x - mean) * scale + bias`` differently from the forward's at 0.
    Otherwise ``y`` is not read (pass ``x``). Parallel over channels: iteration ``c`` writes
    ``grad_x[:, c, :]``, ``grad_weight[c]`` and ``grad_bias[c]`` only.
    """
    N, C, P = x.shape
    xf, gf, gxf = x.reshape(-1), grad_out.reshape(-1), grad_x.reshape(-1)
    yf = y.reshape(-1)
    count = N * P
    # per-channel coefficients stored in the data's dtype, so the element loops stay in it
    coef = np.zeros((C, 2), dtype=x.dtype)
    zero = np.zeros(1, dtype=x.dtype)[0]
    for c in prange(C):
        scale = invstd[c] * weight[c]
        m = mean[c]
        sum_g = 0.0
        sum_gxc = 0.0
        if TRAINING or NEED_GRAD_PARAMS:
            for n in range(N):
                base = (n * C + c) * P
                for p in range(P):
                    j = np.uint64(base + p)
                    g = gf[j]
                    xv = xf[j]
                    if RELU and yf[j] <= zero:
                        g = zero
                    sum_g += g
                    sum_gxc += g * (xv - m)
            if NEED_GRAD_PARAMS:
                grad_weight[c] = sum_gxc * invstd[c]
                grad_bias[c] = sum_g
        if not NEED_GRAD_X:
            continue
        # d/dx of the normalisation: scale * (g - mean(g) - xhat * mean(g * xhat))
        if TRAINING:
            ivs = invstd[c]
            coef[c, 0] = scale * ivs * ivs * (sum_gxc / count)
            coef[c, 1] = scale * (sum_g / count)
        k = coef[c, 0]
        b = coef[c, 1]
        for n in range(N):
            base = (n * C + c) * P
            for p in range(P):
                j = np.uint64(base + p)
                g = gf[j]
                xv = xf[j]
                if RELU and yf[j] <= zero:
                    g = zero
                gxf[j] = g * scale - (xv - m) * k - b
