"""Convolution kernels: im2col / col2im and the layout copies around the convolution GEMM.

A 2-d convolution is computed as one BLAS product over the whole batch. ``im2col`` unrolls the
input into ``cols`` of shape ``(C*KH*KW, N*OH*OW)``: row ``k = (c, kh, kw)`` (the order of
``weight.reshape(O, -1)``), column ``(n, oh, ow)``. With that layout each row is written as runs of
output pixels that read contiguous input rows (stride 1), and a group's rows are one contiguous
block, so grouped convolutions are one GEMM per group on a slice.

The GEMM leaves its product either channel-major ``(O, N, P)`` or pixel-major ``(N, P, O)``; the
``swap01`` / ``transpose12`` kernels turn those into NCHW (and back, for the gradient) in one
parallel pass.
"""
import numpy as np
from numba import njit, prange

from .activation import relu_value
from .twin import serial_twin

__all__ = ["conv_output_size", "im2col", "im2col_rows", "col2im", "swap01", "transpose12",
           "transpose12_serial", "transpose12_for", "im2col_serial", "col2im_serial",
           "swap01_serial"]


@njit(cache=True)
def conv_output_size(size, kernel, stride, padding, dilation):
    """PyTorch's output length of a convolution / pooling window along one axis (floor mode)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@njit(cache=True)
def _valid_range(out_len, in_len, offset, stride):
    """The output positions ``o`` in [lo, hi) whose input ``o*stride + offset`` lies in the input.

    Computing the range once per row keeps the bounds test out of the innermost loop.
    """
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if in_len - 1 - offset >= 0:
        hi = (in_len - 1 - offset) // stride + 1
    if hi > out_len:
        hi = out_len
    if lo > hi:
        lo = hi
    return lo, hi


@njit(cache=True)
def _zero(row, start, stop):
    for j in range(start, stop):
        row[np.uint64(j)] = 0


@njit(parallel=True, cache=True)
def im2col(cols, x, KH, KW, SH, SW, PH, PW, DH, DW):
    """Unroll ``x`` (N, C, H, W) into ``cols`` (C*KH*KW, N*OH*OW), zero where the window pads.

    Parallel over the rows ``k = (c, kh, kw)`` of ``cols``: each iteration writes only its own row,
    so the threads' outputs are disjoint. Inner loops index flat arrays with unsigned offsets:
    numba then drops its negative-index wraparound, and the copies vectorise (2-3x faster).
    """
    N, C, H, W = x.shape
    OH = conv_output_size(H, KH, SH, PH, DH)
    xf = x.reshape(-1)
    for k in prange(C * KH * KW):
        _unroll_row(cols[k], xf, k, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, 0, OH)


@njit(parallel=True, cache=True)
def im2col_rows(cols, x, KH, KW, SH, SW, PH, PW, DH, DW, OH0):
    """``im2col`` for a band of output rows only: ``cols`` (C*KH*KW, N*R*OW) gets output rows
    ``OH0 .. OH0 + R - 1`` of each image, R = ``cols.shape[1] // (N * OW)``. Columns of one
    band, so that one image's whole columns (the stem's at 224x224: 7.4 MB) never exist at once.

    Parallel over the rows of ``cols``, as ``im2col``.
    """
    N, C, H, W = x.shape
    OW = conv_output_size(W, KW, SW, PW, DW)
    R = cols.shape[1] // (N * OW)
    xf = x.reshape(-1)
    for k in prange(C * KH * KW):
        _unroll_row(cols[k], xf, k, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH0, R)


@njit(inline="always", cache=True)
def _unroll_row(row, xf, k, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH0, R):
    """Row ``k = (c, kh, kw)`` of the columns of output rows ``OH0 .. OH0 + R - 1``."""
    OW = conv_output_size(W, KW, SW, PW, DW)
    P = R * OW
    c = k // (KH * KW)
    kh = (k // KW) % KH
    kw = k % KW
    ow_lo, ow_hi = _valid_range(OW, W, kw * DW - PW, SW)
    iw0 = kw * DW - PW
    for n in range(N):
        for r in range(R):
            ih = (OH0 + r) * SH - PH + kh * DH
            base = n * P + r * OW
            if ih < 0 or ih >= H:
                _zero(row, base, base + OW)
                continue
            _zero(row, base, base + ow_lo)
            src = ((n * C + c) * H + ih) * W + iw0
            if SW == 1:
                for ow in range(ow_lo, ow_hi):
                    row[np.uint64(base + ow)] = xf[np.uint64(src + ow)]
            else:
                for ow in range(ow_lo, ow_hi):
                    row[np.uint64(base + ow)] = xf[np.uint64(src + ow * SW)]
            _zero(row, base + ow_hi, base + OW)


@njit(parallel=True, cache=True)
def col2im(grad_x, cols, KH, KW, SH, SW, PH, PW, DH, DW):
    """Fold ``cols`` (C*KH*KW, N*OH*OW) back into ``grad_x`` (N, C, H, W), summing overlaps.

    Parallel over the (n, c) planes of ``grad_x``: a plane receives only from the rows of its
    channel and the columns of its image, so no two iterations write the same element.
    """
    N, C, H, W = grad_x.shape
    OH = conv_output_size(H, KH, SH, PH, DH)
    OW = conv_output_size(W, KW, SW, PW, DW)
    P = OH * OW
    gf = grad_x.reshape(-1)
    for plane in prange(N * C):
        c = plane // N
        n = plane % N
        start = (n * C + c) * H * W
        _zero(gf, start, start + H * W)
        for kh in range(KH):
            for kw in range(KW):
                row = cols[(c * KH + kh) * KW + kw]
                ow_lo, ow_hi = _valid_range(OW, W, kw * DW - PW, SW)
                iw0 = kw * DW - PW
                for oh in range(OH):
                    ih = oh * SH - PH + kh * DH
                    if ih < 0 or ih >= H:
                        continue
                    base = n * P + oh * OW
                    dst = start + ih * W + iw0
                    if SW == 1:
                        for ow in range(ow_lo, ow_hi):
                            gf[np.uint64(dst + ow)] += row[np.uint64(base + ow)]
                    else:
                        for ow in range(ow_lo, ow_hi):
                            gf[np.uint64(dst + ow * SW)] += row[np.uint64(base + ow)]


@njit(cache=True)
def _epilogue(v, bias, res, n, c, p, has_b, has_r, relu, zero):
    """Output element (n, c, p) of a convolution: ``v`` (+ ``bias[c]``) (+ ``res[n, c, p]``),
    then ReLU, each in the arrays' dtype, in the order the separate ops would apply them."""
    if has_b:
        v += bias[c]
    if has_r:
        v += res[n, c, p]
    return relu_value(v, zero) if relu else v


@njit(parallel=True, cache=True)
def swap01(out, src, bias, res, relu):
    """``out[b, a, :] = src[a, b, :]`` for 3-d arrays: (O, N, P) <-> (N, O, P), with an optional
    epilogue in the same pass: ``+ bias[a]`` when ``bias`` is not empty, ``+ res[b, a, :]`` when
    ``res`` (shaped like ``out``) is not empty, then ReLU when ``relu``. The convolution's output
    copy is where a folded BatchNorm's shift, a residual and a ReLU cost no pass of their own
    (the stem's output is 51 MB at batch 16); the backward's gradient copy passes empty arrays.

    Parallel over the (b, a) pairs; each writes its own contiguous run of ``out``.
    """
    A, B, P = src.shape
    has_b, has_r = bias.size > 0, res.size > 0
    zero = np.zeros(1, out.dtype)[0]
    for i in prange(A * B):
        b = i // A
        a = i % A
        if not (has_b or has_r or relu):
            for p in range(P):
                out[b, a, p] = src[a, b, p]
            continue
        # the epilogue written out, the channel's bias hoisted: through _epilogue's call per
        # element the serial twin (a pipeline's) ran two orders of magnitude slower than this
        bb = bias[a] if has_b else zero
        for p in range(P):
            v = src[a, b, p]
            if has_b:
                v += bb
            if has_r:
                v += res[b, a, p]
            out[b, a, p] = relu_value(v, zero) if relu else v


# rows of ``src`` (pixels) per block of transpose12: each channel's run of them in ``out`` is
# one 64-byte line of float32
_ROWS = 16


@njit(parallel=True, cache=True)
def transpose12(out, src, bias, res, relu):
    """``out[n, j, i] = src[n, i, j]`` for C-contiguous 3-d arrays: (N, P, O) <-> (N, O, P),
    with ``swap01``'s epilogue (``+ bias[j]``, ``+ res[n, j, i]``, ReLU) when asked.

    Parallel over (image n, block of ``_ROWS`` rows i of ``src``): an iteration reads one
    contiguous block of ``src`` and writes, for each column j, one run of ``out[n, j]``, so the
    writes are disjoint. Measured against 32x32 tiles (the stem's (16, 12544, 64) at batch 16,
    2 threads): 12.5-14.7 ms -> 4-6 ms; swap01 moves the same bytes in about 2.
    """
    N, I, J = src.shape
    has_b, has_r = bias.size > 0, res.size > 0
    zero = np.zeros(1, out.dtype)[0]
    plain = not (has_b or has_r or relu)
    blocks = (I + _ROWS - 1) // _ROWS
    of, sf = out.reshape(-1), src.reshape(-1)
    for t in prange(N * blocks):
        n = t // blocks
        i0 = (t % blocks) * _ROWS
        i1 = min(i0 + _ROWS, I)
        base = n * I * J   # image n's first value, in src and in out alike
        for j in range(J):
            o = base + j * I
            if plain:
                for i in range(i0, i1):
                    of[np.uint64(o + i)] = sf[np.uint64(base + i * J + j)]
                continue
            for i in range(i0, i1):
                of[np.uint64(o + i)] = _epilogue(sf[np.uint64(base + i * J + j)], bias, res,
                                                 n, j, i, has_b, has_r, relu, zero)


# Below this many output values, transpose12's serial twin (twin.py): it compiles in half the
# time (4.1 -> 2.1 CPU s) and a copy this small gains nothing from a second thread (one-pixel
# outputs of small batches); the RGB stem's copies (>= 2 x 56 x 56 x 64 values) stay parallel.
_SERIAL_COPY_BELOW = 1 << 18
transpose12_serial = serial_twin(transpose12)
# one thread's slice of a pipelined im2col convolution (ops/conv_im2col_pipeline.py)
im2col_serial = serial_twin(im2col)
col2im_serial = serial_twin(col2im)
swap01_serial = serial_twin(swap01)
# one thread's slice of a pipelined im2col convolution (ops/conv_im2col_pipeline.py)
im2col_serial = serial_twin(im2col)
col2im_serial = serial_twin(col2im)
swap01_serial = serial_twin(swap01)


def transpose12_for(out):
    """The transpose12 kernel for this ``out``: the serial twin for small copies."""
    return transpose12_serial if out.size < _SERIAL_COPY_BELOW else transpose12
