"""Pooling kernels over (N, C, H, W) arrays: max pool with argmax indices, average pool and
adaptive average pool, forward and backward.

Every kernel is parallel over the N*C planes: a plane's output (or input gradient) depends only on
the same plane, so no two iterations write the same element. Output sizes (including ceil_mode)
are decided by the caller and read from the output's shape.
"""
import numpy as np
from numba import njit, prange

__all__ = ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
           "avg_pool2d_backward", "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward"]


@njit(parallel=True, cache=True)
def max_pool2d_forward(out, indices, x, KH, KW, SH, SW, PH, PW, DH, DW):
    """Window maxima and their flat ``ih*W + iw`` positions (PyTorch's ``return_indices``).

    Padding never wins (it is -inf); a NaN wins and propagates, as in PyTorch. Parallel over
    planes.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        for oh in range(OH):
            h0 = oh * SH - PH
            for ow in range(OW):
                w0 = ow * SW - PW
                best = -np.inf
                # PyTorch starts from the first in-bounds position, so an all -inf window
                # still reports a valid index
                ih_first = h0
                while ih_first < 0:
                    ih_first += DH
                iw_first = w0
                while iw_first < 0:
                    iw_first += DW
                best_idx = ih_first * W + iw_first
                for kh in range(KH):
                    ih = h0 + kh * DH
                    if ih < 0 or ih >= H:
                        continue
                    for kw in range(KW):
                        iw = w0 + kw * DW
                        if iw < 0 or iw >= W:
                            continue
                        v = x[n, c, ih, iw]
                        # like PyTorch, every NaN takes over, so the last NaN's index wins
                        if v > best or v != v:
                            best = v
                            best_idx = ih * W + iw
                out[n, c, oh, ow] = best
                indices[n, c, oh, ow] = best_idx


@njit(parallel=True, cache=True)
def max_pool2d_backward(grad_x, grad_out, indices):
    """Scatter-add each output gradient to its argmax position. Parallel over planes."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        for ih in range(H):
            for iw in range(W):
                grad_x[n, c, ih, iw] = 0
        for oh in range(OH):
            for ow in range(OW):
                idx = indices[n, c, oh, ow]
                grad_x[n, c, idx // W, idx % W] += grad_out[n, c, oh, ow]


@njit(cache=True)
def _avg_window(o, S, P, K, size, COUNT_INCLUDE_PAD):
    """PyTorch's average-pool window along one axis: (start, end, length counted)."""
    start = o * S - P
    end = min(start + K, size + P)
    padded_len = end - start
    start = max(start, 0)
    end = min(end, size)
    if COUNT_INCLUDE_PAD:
        return start, end, padded_len
    return start, end, end - start


@njit(parallel=True, cache=True)
def avg_pool2d_forward(out, x, KH, KW, SH, SW, PH, PW, COUNT_INCLUDE_PAD, DIVISOR):
    """Window means; DIVISOR > 0 overrides the count (``divisor_override``). Parallel over planes."""
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        for oh in range(OH):
            h0, h1, hl = _avg_window(oh, SH, PH, KH, H, COUNT_INCLUDE_PAD)
            for ow in range(OW):
                w0, w1, wl = _avg_window(ow, SW, PW, KW, W, COUNT_INCLUDE_PAD)
                s = 0.0
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        s += x[n, c, ih, iw]
                div = DIVISOR if DIVISOR > 0 else hl * wl
                out[n, c, oh, ow] = s / div if div > 0 else 0.0


@njit(parallel=True, cache=True)
def avg_pool2d_backward(grad_x, grad_out, KH, KW, SH, SW, PH, PW, COUNT_INCLUDE_PAD, DIVISOR):
    """Spread each output gradient evenly over its window. Parallel over planes."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        for ih in range(H):
            for iw in range(W):
                grad_x[n, c, ih, iw] = 0
        for oh in range(OH):
            h0, h1, hl = _avg_window(oh, SH, PH, KH, H, COUNT_INCLUDE_PAD)
            for ow in range(OW):
                w0, w1, wl = _avg_window(ow, SW, PW, KW, W, COUNT_INCLUDE_PAD)
                div = DIVISOR if DIVISOR > 0 else hl * wl
                if div <= 0:
                    continue
                g = grad_out[n, c, oh, ow] / div
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        grad_x[n, c, ih, iw] += g


@njit(cache=True)
def _adaptive_window(o, in_size, out_size):
    """PyTorch's adaptive window: [floor(o*in/out), ceil((o+1)*in/out))."""
    return (o * in_size) // out_size, ((o + 1) * in_size + out_size - 1) // out_size


@njit(parallel=True, cache=True)
def adaptive_avg_pool2d_forward(out, x):
    """Mean over each adaptive window (output size read from ``out``). Parallel over planes."""
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        for oh in range(OH):
            h0, h1 = _adaptive_window(oh, H, OH)
            for ow in range(OW):
                w0, w1 = _adaptive_window(ow, W, OW)
                s = 0.0
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        s += x[n, c, ih, iw]
                out[n, c, oh, ow] = s / ((h1 - h0) * (w1 - w0))


@njit(parallel=True, cache=True)
def adaptive_avg_pool2d_backward(grad_x, grad_out):
    """Spread each output gradient evenly over its adaptive window. Parallel over planes."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        for ih in range(H):
            for iw in range(W):
                grad_x[n, c, ih, iw] = 0
        for oh in range(OH):
            h0, h1 = _adaptive_window(oh, H, OH)
            for ow in range(OW):
                w0, w1 = _adaptive_window(ow, W, OW)
                g = grad_out[n, c, oh, ow] / ((h1 - h0) * (w1 - w0))
                for ih in range(h0, h1):
                    for iw in range(w0, w1):
                        grad_x[n, c, ih, iw] += g
