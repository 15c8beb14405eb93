"""Pooling kernels over (N, C, H, W) arrays: max pool with argmax indices (or values only, when
no gradient will be taken), average pool and adaptive average pool, forward and backward.

The max and average pool kernels are parallel over the N*C planes: a plane's output (or input
gradient) depends only on the same plane, so no two iterations write the same element. Output sizes (including ceil_mode)
are decided by the caller and read from the output's shape.
"""
import numpy as np
from numba import njit, prange

__all__ = ["max_pool2d_forward", "max_pool2d_forward_values", "max_pool2d_backward",
           "avg_pool2d_forward", "avg_pool2d_backward", "adaptive_avg_pool2d_forward",
           "adaptive_avg_pool2d_backward"]


@njit(cache=True)
def _tap_range(taps, size, start, step):
    """The taps ``t`` in [lo, hi) whose position ``start + t*step`` lies in [0, size)."""
    lo = 0
    if start < 0:
        lo = (-start + step - 1) // step
    hi = 0
    if size - 1 - start >= 0:
        hi = min(taps, (size - 1 - start) // step + 1)
    return lo, max(lo, hi)


@njit(cache=True)
def _max_window_nan(xf, xo, W, h0, w0, kh_lo, kh_hi, kw_lo, kw_hi, DH, DW):
    """(max, flat index) of a window holding a NaN, with PyTorch's rule: any NaN takes over, so
    the last NaN in row-major order wins. Rare, so written plainly."""
    best_idx = (h0 + kh_lo * DH) * W + w0 + kw_lo * DW
    best = xf[np.uint64(xo + best_idx)]
    for kh in range(kh_lo, kh_hi):
        for kw in range(kw_lo, kw_hi):
            pos = (h0 + kh * DH) * W + w0 + kw * DW
            v = xf[np.uint64(xo + pos)]
            if v > best or v != v:
                best = v
                best_idx = pos
    return best, best_idx


@njit(parallel=True, cache=True)
def max_pool2d_forward(out, indices, x, KH, KW, SH, SW, PH, PW, DH, DW):
    """Window maxima and their flat ``ih*W + iw`` positions (PyTorch's ``return_indices``).

    Padding never wins (only in-bounds taps are visited). The index is the first maximum in
    row-major order (PyTorch's tie rule: the window is scanned row by row, and only a strictly
    greater value takes over); the value is the values kernel's, bitwise. Windows wholly inside
    the width go a row at a time (``_max_rows_indexed_``: column maxima over whole input rows
    first, ~2x faster at the stem's pool); those overhanging an edge go one by one
    (``_max_window_indexed``), and so does every window of a plane holding a NaN, which
    propagates as PyTorch does (``_max_window_nan``). Parallel over planes.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    xf, of, idxf = x.reshape(-1), out.reshape(-1), indices.reshape(-1)
    full_a, full_b = _full_columns(OW, KW, W, SW, PW, DW)
    for plane in prange(N * C):
        vm = np.empty(W, x.dtype)
        im = np.empty(W, np.int32)  # per input column: the tap of its maximum's row
        xo = plane * H * W
        # one cheap scan keeps the NaN test out of the row loop (NaNs are rare)
        nan = _has_nan(xf, xo, H * W)
        a, b = (0, 0) if nan else (full_a, full_b)
        for oh in range(OH):
            h0 = oh * SH - PH
            kh_lo, kh_hi = _tap_range(KH, H, h0, DH)
            orow = (plane * OH + oh) * OW
            for ow in range(OW):
                if a <= ow < b:  # done below, a row at a time
                    continue
                w0 = ow * SW - PW
                kw_lo, kw_hi = _tap_range(KW, W, w0, DW)
                if nan:
                    best, best_idx = _max_window_nan(xf, xo, W, h0, w0, kh_lo, kh_hi, kw_lo,
                                                     kw_hi, DH, DW)
                else:
                    best, best_idx = _max_window_indexed(xf, xo, W, h0, w0, kh_lo, kh_hi,
                                                         kw_lo, kw_hi, DH, DW)
                o = np.uint64(orow + ow)
                of[o] = best
                idxf[o] = best_idx
            if a < b:
                _max_rows_indexed_(of, idxf, orow, a, b, xf, xo, h0, kh_lo, kh_hi, W, KW, SW,
                                   PW, DH, DW, vm, im)


@njit(cache=True)
def _max_window_indexed(xf, xo, W, h0, w0, kh_lo, kh_hi, kw_lo, kw_hi, DH, DW):
    """(max, flat index) of one NaN-free window: row-major scan, strictly greater takes over."""
    best_idx = (h0 + kh_lo * DH) * W + w0 + kw_lo * DW
    best = xf[np.uint64(xo + best_idx)]
    for kh in range(kh_lo, kh_hi):
        row = (h0 + kh * DH) * W + w0
        for kw in range(kw_lo, kw_hi):
            pos = row + kw * DW
            v = xf[np.uint64(xo + pos)]
            if v > best:
                best_idx = pos
            best = max(v, best)  # the values kernel's value, to the sign of a tied zero
    return best, best_idx


@njit(cache=True)
def _max_rows_indexed_(of, idxf, orow, a, b, xf, xo, h0, kh_lo, kh_hi, W, KW, SW, PW, DH, DW,
                       vm, im):
    """Maxima and flat positions of the full-width windows [a, b) of one output row (no NaN in
    the plane). First each input column's maximum over the window's rows and the position of
    its first occurrence (rows top-down, strictly greater takes over), whole contiguous input
    rows at a time (vectorised), into ``vm`` / ``im`` (the winning row's tap, int32: a flat
    position there took int64 arithmetic per element, 26% slower); then each window's KW
    columns, where a tie goes to the earlier row, then the earlier column: the first maximum in
    row-major order, PyTorch's choice. The values
    are folded exactly as ``_max_rows_`` folds them (a tied +0.0/-0.0 keeps the same sign)."""
    r0 = (h0 + kh_lo * DH) * W
    k0 = np.int32(kh_lo)
    for w in range(W):
        u = np.uint64(w)
        vm[u] = xf[np.uint64(xo + r0 + w)]
        im[u] = k0
    for kh in range(kh_lo + 1, kh_hi):
        r = (h0 + kh * DH) * W
        k = np.int32(kh)
        for w in range(W):
            u = np.uint64(w)
            v, best = xf[np.uint64(xo + r + w)], vm[u]
            im[u] = k if v > best else im[u]
            vm[u] = v if v >= best else best  # as _max_rows_: bitwise the values kernel
    for ow in range(a, b):
        s = ow * SW - PW
        best, bk, bw = vm[np.uint64(s)], im[np.uint64(s)], s
        for kw in range(1, KW):
            c = s + kw * DW
            u = np.uint64(c)
            v, k = vm[u], im[u]
            # the smaller row first, then the smaller column: the first in row-major order
            take = (v > best) | ((v == best) & (k < bk))
            bk = k if take else bk
            bw = c if take else bw
            best = v if v >= best else best
        bi = (h0 + bk * DH) * W + bw
        o = np.uint64(orow + ow)
        of[o] = best
        idxf[o] = bi


@njit(cache=True)
def _max_window_value(xf, xo, W, h0, w0, kh_lo, kh_hi, kw_lo, kw_hi, DH, DW):
    """The max of one window, exactly as ``max_pool2d_forward`` computes it (same tap order, same
    ``max``, same NaN rule), without the index."""
    best = xf[np.uint64(xo + (h0 + kh_lo * DH) * W + w0 + kw_lo * DW)]
    nan = best != best
    for kh in range(kh_lo, kh_hi):
        row = xo + (h0 + kh * DH) * W + w0
        for kw in range(kw_lo, kw_hi):
            v = xf[np.uint64(row + kw * DW)]
            best = max(v, best)
            nan |= v != v
    if nan:
        best, _ = _max_window_nan(xf, xo, W, h0, w0, kh_lo, kh_hi, kw_lo, kw_hi, DH, DW)
    return best


@njit(cache=True)
def _full_columns(OW, KW, W, SW, PW, DW):
    """The output columns [a, b) whose windows lie wholly inside the input's width (contiguous,
    as a window's start grows with the column); (0, 0) when there are none."""
    a, b = OW, 0
    for ow in range(OW):
        if _tap_range(KW, W, ow * SW - PW, DW) == (0, KW):
            a, b = min(a, ow), ow + 1
    return (a, b) if a < b else (0, 0)


@njit(cache=True)
def _has_nan(xf, start, count):
    nan = False
    for i in range(start, start + count):
        v = xf[np.uint64(i)]
        nan |= v != v
    return nan


@njit(cache=True)
def _max_rows_(of, orow, a, b, xf, rows, kh_lo, kh_hi, W, KW, SW, PW, DH, DW, vm):
    """Maxima of the full-width windows [a, b) of one output row (``rows``: flat offset of the
    window's top row). First the column maxima over the window's rows, whole input rows at a
    time (contiguous: vectorised), into ``vm``; then each window's KW columns of ``vm``. The
    stride-2 column reads now touch one row held in cache instead of every tap's input row
    (the stem's pool: 5.7 -> 3.5 ms of CPU per 128 planes of 112x112). Ties and their order as
    ``_max_window_value`` by columns then rows (``v >= best``: equal values compare equal, so
    the value kept is the same); the caller's plane scan keeps NaNs away from here."""
    r0 = rows + kh_lo * DH * W
    for w in range(W):
        vm[np.uint64(w)] = xf[np.uint64(r0 + w)]
    for kh in range(kh_lo + 1, kh_hi):
        r = rows + kh * DH * W
        for w in range(W):
            u = np.uint64(w)
            v, best = xf[np.uint64(r + w)], vm[u]
            # == max(v, best) without NaNs; LLVM vectorises this form but not numba's max
            vm[u] = v if v >= best else best
    for ow in range(a, b):
        s = ow * SW - PW
        best = vm[np.uint64(s)]
        for kw in range(1, KW):
            v = vm[np.uint64(s + kw * DW)]
            best = v if v >= best else best
        of[np.uint64(orow + ow)] = best


@njit(parallel=True, cache=True)
def max_pool2d_forward_values(out, x, KH, KW, SH, SW, PH, PW, DH, DW):
    """``max_pool2d_forward``'s maxima without writing indices: for inference and frozen
    layers, where nothing will scatter a gradient back (the int64 indices cost twice the output's
    memory traffic).

    Windows wholly inside the width go a row at a time (``_max_rows_``); those overhanging an
    edge, and every window of a plane holding a NaN, go one by one through
    ``_max_window_value`` with its NaN rule. Parallel over planes, as the indexed kernel.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    xf, of = x.reshape(-1), out.reshape(-1)
    full_a, full_b = _full_columns(OW, KW, W, SW, PW, DW)
    for plane in prange(N * C):
        vm = np.empty(W, x.dtype)
        xo = plane * H * W
        # one cheap scan keeps the NaN test out of the row loop (NaNs are rare)
        a, b = (0, 0) if _has_nan(xf, xo, H * W) else (full_a, full_b)
        for oh in range(OH):
            h0 = oh * SH - PH
            kh_lo, kh_hi = _tap_range(KH, H, h0, DH)
            orow = (plane * OH + oh) * OW
            for ow in range(OW):
                if a <= ow < b:  # done below, a row at a time
                    continue
                w0 = ow * SW - PW
                kw_lo, kw_hi = _tap_range(KW, W, w0, DW)
                of[np.uint64(orow + ow)] = _max_window_value(xf, xo, W, h0, w0, kh_lo, kh_hi,
                                                             kw_lo, kw_hi, DH, DW)
            if a < b:
                _max_rows_(of, orow, a, b, xf, xo + h0 * W, kh_lo, kh_hi, W, KW, SW, PW, DH,
                           DW, vm)


@njit(parallel=True, cache=True)
def max_pool2d_backward(grad_x, grad_out, indices):
    """Scatter-add each output gradient to its argmax position. Parallel over planes; flat
    offsets (the index is already the plane's flat position: no division per element)."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    gxf, gof, idxf = grad_x.reshape(-1), grad_out.reshape(-1), indices.reshape(-1)
    HW, P = H * W, OH * OW
    for plane in prange(N * C):
        xo, oo = plane * HW, plane * P
        for i in range(HW):
            gxf[np.uint64(xo + i)] = 0
        for j in range(P):
            o = np.uint64(oo + j)
            gxf[np.uint64(xo + idxf[o])] += gof[o]


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


@njit(cache=True)
def adaptive_avg_pool2d_forward(out, x):
    """Mean over each adaptive window (output size read from ``out``).

    Serial on purpose: at a network's head (its use here) it reads ~1 MB, less than a parallel
    launch is worth, and a serial kernel compiles ~1.5 s faster on a cold cache.
    """
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for plane in range(N * C):
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


@njit(cache=True)
def adaptive_avg_pool2d_backward(grad_x, grad_out):
    """Spread each output gradient evenly over its adaptive window (serial, as the forward)."""
    N, C, H, W = grad_x.shape
    OH, OW = grad_out.shape[2], grad_out.shape[3]
    for plane in range(N * C):
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
