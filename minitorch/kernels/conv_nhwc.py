"""Channels-last kernels for the convolutions of few input channels and a stride (ResNet's
7x7 stride-2 stem on RGB images).

In NCHW a strided im2col gathers every other input element, one channel plane at a time, and
its rows are the whole batch's output pixels (the stem's are 118 MB at batch 16). Channels-last
turns each window row into one contiguous run: ``KW * C`` input numbers (21 for the stem) go to
``KW * C`` consecutive numbers of a pixel's column row. The product then comes out pixel-major,
``(pixels, O)``, where a max-pool's window reads whole channel vectors (vectorised over ``O``)
instead of one plane's scattered rows.

``nhwc_padded`` makes the zero-padded channels-last copy (small: ``C`` is at most a few
channels), ``im2col_nhwc`` the pixel-major columns of a band of output rows, and
``max_pool_nhwc_values`` pools the pixel-major product (torch's NaN rule: a NaN in the window
is the maximum).

Each runs on one thread and releases the GIL: the stem runs as a pipeline over slices of the
batch, each slice's kernels and product on one of the product threads (``ops/conv_nhwc.py``).
"""
import numpy as np
from numba import njit

__all__ = ["nhwc_padded", "im2col_nhwc", "max_pool_nhwc_values"]


@njit(cache=True, nogil=True)
def nhwc_padded(out, x, PH, PW):
    """``out`` (N, H + 2PH, W + 2PW, C) = ``x`` (N, C, H, W) channels-last, zero around it."""
    N, C, H, W = x.shape
    HP, WP = out.shape[1], out.shape[2]
    for i in range(N * HP):
        n = i // HP
        h = i % HP - PH
        row = out[n, i % HP]
        if h < 0 or h >= H:
            row[:, :] = 0
            continue
        row[:PW, :] = 0
        row[PW + W:, :] = 0
        for c in range(C):
            for w in range(W):
                row[PW + w, c] = x[n, c, h, w]


@njit(cache=True, nogil=True)
def im2col_nhwc(cols, xp, KH, KW, SH, SW, OH0):
    """Pixel-major columns of output rows ``OH0 .. OH0 + R - 1`` of every image of ``xp`` (a
    ``nhwc_padded`` copy): ``cols`` (N*R*OW, KH*KW*C), row ``(n, r, ow)``, column
    ``(kh, kw, c)`` (the order of ``weight.transpose(2, 3, 1, 0)``); R from ``cols``' rows.
    """
    N, HP, WP, C = xp.shape
    OW = (WP - KW) // SW + 1
    R = cols.shape[0] // (N * OW)
    run = KW * C
    xf, cf = xp.reshape(-1), cols.reshape(-1)
    for i in range(N * R):
        n = i // R
        oh = OH0 + i % R
        for ow in range(OW):
            dst = (i * OW + ow) * KH * run
            for kh in range(KH):
                src = ((n * HP + oh * SH + kh) * WP + ow * SW) * C
                d = dst + kh * run
                for j in range(run):
                    cf[np.uint64(d + j)] = xf[np.uint64(src + j)]


@njit(cache=True, nogil=True)
def max_pool_nhwc_values(out, y, KH, KW, SH, SW, PH, PW, DH, DW):
    """``out`` (N, OH, OW, C) = the max-pool of ``y`` (N, H, W, C) over windows ``KH x KW``
    (stride, padding, dilation as ``max_pool2d``; padding is never the maximum); a NaN in a
    window is its maximum, as in torch."""
    N, H, W, C = y.shape
    OH, OW = out.shape[1], out.shape[2]
    for i in range(N * OH):
        n = i // OH
        oh = i % OH
        for ow in range(OW):
            dst = out[n, oh, ow]
            first = True
            for kh in range(KH):
                h = oh * SH - PH + kh * DH
                if h < 0 or h >= H:
                    continue
                for kw in range(KW):
                    w = ow * SW - PW + kw * DW
                    if w < 0 or w >= W:
                        continue
                    src = y[n, h, w]
                    if first:
                        dst[:] = src
                        first = False
                        continue
                    for c in range(C):
                        v = src[c]
                        if v > dst[c] or v != v:
                            dst[c] = v

