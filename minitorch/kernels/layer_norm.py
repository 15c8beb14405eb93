"""Layer-norm kernels over contiguous ``(M, D)`` arrays: each of the M rows is normalised over
its D elements (the flattened ``normalized_shape``).

Forward and the input gradient run parallel over rows (row ``r`` reads and writes only row ``r``
and ``mean[r]``/``rstd[r]``). The weight/bias gradients sum over rows: they run parallel over
fixed chunks of rows, each chunk writing its own row of a partial-sum array that the caller
adds up, so no two iterations share an output. Row sums accumulate in float64 scalars.
"""
import numpy as np
from numba import njit, prange

__all__ = ["layer_norm_forward", "layer_norm_backward_input", "layer_norm_backward_params"]


@njit(parallel=True, cache=True)
def layer_norm_forward(y, mean, rstd, x, w, b, eps, AFFINE_W, AFFINE_B):
    """``y = (x - mean) * rstd * w + b`` per row; the biased variance, as PyTorch."""
    M, D = x.shape
    for r in prange(M):
        s = 0.0
        for j in range(D):
            s += x[r, j]
        m = s / D
        ss = 0.0
        for j in range(D):
            d = x[r, j] - m
            ss += d * d
        inv = 1.0 / np.sqrt(ss / D + eps)
        mean[r] = m
        rstd[r] = inv
        for j in range(D):
            v = (x[r, j] - m) * inv
            if AFFINE_W:
                v = v * w[j]
            if AFFINE_B:
                v = v + b[j]
            y[r, j] = v


@njit(parallel=True, cache=True)
def layer_norm_backward_input(grad_x, grad_out, x, mean, rstd, w, AFFINE_W):
    """``grad_x = rstd * (g - mean(g) - xhat * mean(g * xhat))`` with ``g = grad_out * w``."""
    M, D = x.shape
    for r in prange(M):
        m, inv = mean[r], rstd[r]
        s1 = 0.0
        s2 = 0.0
        for j in range(D):
            g = grad_out[r, j] * w[j] if AFFINE_W else grad_out[r, j]
            s1 += g
            s2 += g * (x[r, j] - m) * inv
        s1 /= D
        s2 /= D
        for j in range(D):
            g = grad_out[r, j] * w[j] if AFFINE_W else grad_out[r, j]
            xhat = (x[r, j] - m) * inv
            grad_x[r, j] = inv * (g - s1 - xhat * s2)


@njit(parallel=True, cache=True)
def layer_norm_backward_params(partial_w, partial_b, grad_out, x, mean, rstd):
    """Partial sums of ``grad_out * xhat`` and ``grad_out`` over chunks of rows.

    ``partial_w``/``partial_b`` are (K, D) float64: chunk ``k`` writes only row ``k``.
    """
    M, D = x.shape
    K = partial_w.shape[0]
    step = (M + K - 1) // K
    for k in prange(K):
        for j in range(D):
            partial_w[k, j] = 0.0
            partial_b[k, j] = 0.0
        for r in range(k * step, min(M, (k + 1) * step)):
            m, inv = mean[r], rstd[r]
            for j in range(D):
                g = grad_out[r, j]
                partial_w[k, j] += g * ((x[r, j] - m) * inv)
                partial_b[k, j] += g
