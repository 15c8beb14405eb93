"""The Winograd transforms that read planes and write an NCHW image tensor: F(2x2, 3x3)'s
``output_transform`` and ``input_transform_adjoint`` (re-exported by ``winograd.py``) and
F(4x4, 3x3)'s ``output_transform43`` (re-exported by ``winograd43.py``). Layouts and algebra as
in those modules' docstrings.

Why they work per channel and group of images, not per (image, channel) plane: for a fixed
channel the tiles of all images are one contiguous run of ``M`` / ``dV`` (column ``n * TT + t``),
but one plane's run is only TT long (4 tiles at 8x8 for F(4x4, 3x3), at 4x4 for F(2x2, 3x3)):
loops that short do not vectorise and per-plane overhead dominated (5 ms for a 1 MB output). So
each parallel iteration takes one channel and a group of consecutive images (``_images_per_unit``:
about ``_RUN`` tile columns), does the transform arithmetic over runs as long as the group, into
a small scratch that stays in cache, one stream per tile element, and then writes the images
through a precomputed index map: output element (h, w) of a plane is a fixed offset into those
streams, so the last pass is one gather loop per plane. The float operations and their order
are those of the earlier per-plane kernels, so the results are bitwise theirs
(tests/kernels/test_winograd_scatter_kernels.py keeps those kernels to check it).
"""
import numpy as np
from numba import njit, prange

from .activation import relu_value
from .twin import serial_twin

__all__ = ["output_transform", "output_transform_serial", "input_transform_adjoint",
           "output_transform43", "output_transform43_serial"]

# Tile columns per parallel iteration (rounded to whole images): long enough for the vector
# loops (AVX-512 wants 64 and more), short enough that the scratch (up to 28 streams of this
# length) stays in L1/L2. 256 and 1024 measured no different.
_RUN = 512
# input_transform_adjoint copies dV into its padded tile grid a tile row at a time from this
# many tiles per row, else one loop over the group's images per tile. Measured, one thread:
# rows at 2 tiles (4x4 maps) 5.1 ms against 2.2 per tile; an index-map gather at every size
# took 16 ms at 56x56 (x 64 channels, batch 16) where rows take 8.5, and 4.6 at 8x8 where
# rows take 3.9.
_ROW_COPY = 4


@njit(cache=True)
def _images_per_unit(N, per_image):
    """Images per work unit: the fewest equal groups of about ``_RUN`` columns (at least one
    image each), so that the last group is not a short remainder."""
    groups = max(1, min(N, (N * per_image + _RUN - 1) // _RUN))
    return (N + groups - 1) // groups


@njit(cache=True)
def _output_index(OH, OW, TW, r, LS):
    """``idx[h * OW + w]``: where output (h, w) of a unit's first image sits in its scratch
    ``Y``, which holds element ``(a, b)`` of every tile (r x r outputs each) as stream
    ``a * r + b`` of stride ``LS``, tile (ty, tx) at ``ty * TW + tx``."""
    idx = np.empty(OH * OW, np.uint64)
    for h in range(OH):
        for w in range(OW):
            idx[h * OW + w] = ((h % r) * r + w % r) * LS + (h // r) * TW + w // r
    return idx


@njit(cache=True)
def _write_images(yf, rf, Y, idx, n0, n1, o, O, TT, has_r, relu, zero):
    """Planes ``y[n, o]`` for n in ``[n0, n1)`` from the unit's ``Y``, plus the residual
    ``res[n, o]`` when ``has_r``, then ReLU when ``relu`` (the old epilogue's order)."""
    P = idx.size
    for n in range(n0, n1):
        yo = np.uint64((n * O + o) * P)
        off = np.uint64((n - n0) * TT)
        if has_r:
            for e0 in range(P):
                e = np.uint64(e0)
                v = Y[idx[e] + off] + rf[yo + e]
                yf[yo + e] = relu_value(v, zero) if relu else v
        elif relu:
            for e0 in range(P):
                e = np.uint64(e0)
                yf[yo + e] = relu_value(Y[idx[e] + off], zero)
        else:
            for e0 in range(P):
                e = np.uint64(e0)
                yf[yo + e] = Y[idx[e] + off]


@njit(cache=True)
def _output_unit(Y, Q, Mf, p, S, L, LS, b, has_b):
    """``Y`` (4 streams, stride ``LS``) = ``A^T m A`` (``+ b`` when ``has_b``) for the ``L``
    tiles whose 16 elements start at ``Mf[p + k * S]``; ``Q`` (8 streams of ``L``) holds
    ``A^T m``, row a and column j as stream ``4 * a + j``."""
    S4 = np.uint64(4) * S
    for j in range(4):
        p0 = p + np.uint64(j) * S
        p1, p2, p3 = p0 + S4, p0 + S4 + S4, p0 + S4 + S4 + S4
        q0, q1 = np.uint64(j * L), np.uint64((4 + j) * L)
        for t0 in range(L):
            t = np.uint64(t0)
            Q[q0 + t] = Mf[p0 + t] + Mf[p1 + t] + Mf[p2 + t]
        for t0 in range(L):
            t = np.uint64(t0)
            Q[q1 + t] = Mf[p1 + t] - Mf[p2 + t] - Mf[p3 + t]
    for a in range(2):
        r0 = np.uint64(4 * a * L)
        r1, r2, r3 = r0 + np.uint64(L), r0 + np.uint64(2 * L), r0 + np.uint64(3 * L)
        y0, y1 = np.uint64(2 * a * LS), np.uint64((2 * a + 1) * LS)
        if has_b:
            for t0 in range(L):
                t = np.uint64(t0)
                Y[y0 + t] = Q[r0 + t] + Q[r1 + t] + Q[r2 + t] + b
            for t0 in range(L):
                t = np.uint64(t0)
                Y[y1 + t] = Q[r1 + t] - Q[r2 + t] - Q[r3 + t] + b
        else:
            for t0 in range(L):
                t = np.uint64(t0)
                Y[y0 + t] = Q[r0 + t] + Q[r1 + t] + Q[r2 + t]
            for t0 in range(L):
                t = np.uint64(t0)
                Y[y1 + t] = Q[r1 + t] - Q[r2 + t] - Q[r3 + t]


@njit(parallel=True, cache=True)
def output_transform(y, M, bias, res, relu):
    """``y`` (N, O, OH, OW) from the products ``M`` (16, O, T): each tile's ``A^T m A``, plus
    ``bias[o]`` (``bias`` (O,) or empty), plus ``res[n, o]`` (``res`` shaped like ``y`` or
    empty), then ReLU when ``relu``: a folded BatchNorm's shift, a BasicBlock's residual and
    its ReLU cost no pass of their own.

    Parallel over (output channel, group of images): iteration (o, group) writes only
    ``y[group, o]``. Tile row ``ty`` writes output rows ``2 * ty`` and ``2 * ty + 1`` (the second
    dropped past an odd edge, as is a tile's second column).
    """
    N, O, OH, OW = y.shape
    TH, TW = (OH + 1) // 2, (OW + 1) // 2
    TT = TH * TW
    G = _images_per_unit(N, TT)
    NG = (N + G - 1) // G
    LS = G * TT
    S = np.uint64(O * M.shape[2])
    Mf, yf, rf = M.reshape(-1), y.reshape(-1), res.reshape(-1)
    has_b, has_r = bias.size > 0, res.size > 0
    zero = np.zeros(1, y.dtype)[0]
    idx = _output_index(OH, OW, TW, 2, LS)
    for unit in prange(O * NG):
        o, n0 = unit // NG, (unit % NG) * G
        n1 = min(N, n0 + G)
        Y = np.empty(4 * LS, y.dtype)
        Q = np.empty(8 * LS, y.dtype)
        b = bias[o] if has_b else zero
        _output_unit(Y, Q, Mf, np.uint64(o * M.shape[2] + n0 * TT), S, (n1 - n0) * TT, LS, b,
                     has_b)
        _write_images(yf, rf, Y, idx, n0, n1, o, O, TT, has_r, relu, zero)


@njit(cache=True)
def _adjoint_index(H, W, PH, PW, RW, Z, LS):
    """``dst[h * W + w]``: where input element (h, w) of a unit's first image sits in the four
    streams of ``_adjoint_unit``'s ``A`` (by row and column parity, stride ``LS``)."""
    dst = np.empty(H * W, np.uint64)
    for h in range(H):
        for w in range(W):
            Yp, Xp = PH + h, PW + w
            dst[h * W + w] = (2 * (Yp % 2) + Xp % 2) * LS + Z + (Yp // 2) * RW + Xp // 2
    return dst


@njit(cache=True)
def _adjoint_unit(A, R, D, dVf, base, S, nimg, TH, TW, stride, zero):
    """The padded plane sums ``B dV B^T`` of a unit, into ``A`` (4 streams by row and column
    parity). Per tile grid position p (``Z`` leading zeros, then each image's padded grid):
    ``D`` gathers the 16 planes, ``R`` sums each tile row's ``dV B^T`` over its two horizontally
    overlapping tiles (position p - 1 is the left neighbour, zero at the edge) and ``A`` the
    rows of ``B R`` over the two vertically overlapping tile rows (p - RW). Every sum is the
    per-plane kernel's, in its order: it started from zero and added the left (upper) tile's
    term first, and a zero neighbour's term leaves such a sum bitwise unchanged."""
    RW, TT = TW + 1, TH * TW
    B, T = np.uint64((TH + 1) * RW), np.uint64(TT)
    Z, Lg = RW + 1, nimg * (TH + 1) * RW
    LS = np.uint64(stride)  # the streams' stride (``Z + Lg`` or more)
    Zu = np.uint64(Z)
    for k in range(16):
        d = np.uint64(k) * LS
        s = base + np.uint64(k) * S
        for p in range(Z):
            D[d + np.uint64(p)] = zero
        if TW < _ROW_COPY:  # few tiles per row: one loop over the images per tile instead
            for p in range(Z, Z + Lg):
                D[d + np.uint64(p)] = zero
            for t in range(TT):
                q = d + Zu + np.uint64((t // TW) * RW + t % TW)
                st = s + np.uint64(t)
                for n0 in range(nimg):
                    n = np.uint64(n0)
                    D[q + n * B] = dVf[st + n * T]
        else:  # whole tile rows, contiguous copies (the map's gather does not vectorise)
            for n in range(nimg):
                for ty in range(TH + 1):
                    q = d + Zu + np.uint64((n * (TH + 1) + ty) * RW)
                    for t0 in range(RW):  # an image's extra row and column: zero
                        D[q + np.uint64(t0)] = zero
                    if ty < TH:
                        sr = s + np.uint64(n * TT + ty * TW)
                        for t0 in range(TW):
                            t = np.uint64(t0)
                            D[q + t] = dVf[sr + t]
    one, r = np.uint64(1), np.uint64(RW)
    for i in range(4):  # R[2i + parity]: row i of dV B^T, even and odd columns
        d0 = np.uint64(4 * i) * LS
        d1, d2, d3 = d0 + LS, d0 + LS + LS, d0 + LS + LS + LS
        e, o = np.uint64(2 * i) * LS, np.uint64(2 * i + 1) * LS
        for p0 in range(1, Z + Lg):
            p = np.uint64(p0)
            R[e + p] = zero + (D[d1 + p - one] + D[d2 + p - one] - D[d0 + p - one]) + D[d0 + p]
        for p0 in range(1, Z + Lg):
            p = np.uint64(p0)
            R[o + p] = zero - D[d3 + p - one] + (D[d1 + p] - D[d2 + p] + D[d3 + p])
    for c in range(2):  # A[2 * row parity + c]: the rows of B R, column parity c
        r0 = np.uint64(c) * LS
        r1, r2, r3 = r0 + LS + LS, r0 + np.uint64(4) * LS, r0 + np.uint64(6) * LS
        e, o = np.uint64(c) * LS, np.uint64(2 + c) * LS
        for p0 in range(Z, Z + Lg):
            p = np.uint64(p0)
            A[e + p] = zero + (R[r1 + p - r] + R[r2 + p - r] - R[r0 + p - r]) + R[r0 + p]
        for p0 in range(Z, Z + Lg):
            p = np.uint64(p0)
            A[o + p] = zero - R[r3 + p - r] + (R[r1 + p] - R[r2 + p] + R[r3 + p])


@njit(parallel=True, cache=True)
def input_transform_adjoint(dx, dV, PH, PW):
    """``dx`` (N, C, H, W) = the sum over tiles of ``B dV B^T``, dropping the padding.

    Parallel over (input channel, group of images): iteration (c, group) writes only
    ``dx[group, c]``, each element a sum over its overlapping tiles in a fixed order, so the
    result is race-free and deterministic (see ``_adjoint_unit``).
    """
    N, C, H, W = dx.shape
    TH, TW = (H + 2 * PH - 1) // 2, (W + 2 * PW - 1) // 2
    TT = TH * TW
    RW, B = TW + 1, (TH + 1) * (TW + 1)
    Z = RW + 1  # leading zeros: position p - RW - 1 exists for the first tile
    G = _images_per_unit(N, B)
    NG = (N + G - 1) // G
    LS = Z + G * B
    LD = dV.shape[2]
    S = np.uint64(C * LD)
    dVf, dxf = dV.reshape(-1), dx.reshape(-1)
    zero = np.zeros(1, dx.dtype)[0]
    dst = _adjoint_index(H, W, PH, PW, RW, Z, LS)
    P = H * W
    for unit in prange(C * NG):
        c, n0 = unit // NG, (unit % NG) * G
        n1 = min(N, n0 + G)
        D = np.empty(16 * LS, dx.dtype)
        R = np.empty(8 * LS, dx.dtype)
        A = np.empty(4 * LS, dx.dtype)
        _adjoint_unit(A, R, D, dVf, np.uint64(c * LD + n0 * TT), S, n1 - n0, TH, TW, LS,
                      zero)
        for n in range(n0, n1):
            xo = np.uint64((n * C + c) * P)
            off = np.uint64((n - n0) * B)
            for e0 in range(P):
                e = np.uint64(e0)
                dxf[xo + e] = A[dst[e] + off]


@njit(inline="always", cache=True)
def _at(a, m0, m1, m2, m3, m4, m5, k0, k1, k2, k3, k4, k5):
    """Row ``a`` of F(4x4, 3x3)'s ``A^T`` times (m0 .. m5); ``k0 .. k5`` are 0.5, 0.25, 0.125,
    2, 4 and 8 in the arrays' dtype. Inlined with a constant ``a``, so the branches fold away."""
    s12, d12 = m1 + m2, m1 - m2
    if a == 0:
        return m0 + s12 + (m3 + m4)
    if a == 1:
        return d12 + k0 * m3 - k3 * m4
    if a == 2:
        return s12 + k1 * m3 + k4 * m4
    return d12 + k2 * m3 - k5 * m4 + m5


@njit(inline="always", cache=True)
def _at_rows(Q, Mf, p, S, L, k0, k1, k2, k3, k4, k5, a):
    """``Q[j * L + t]`` = row ``a`` of ``A^T m`` for column j of the ``L`` tiles whose 36
    elements start at ``Mf[p + k * S]``."""
    S6 = np.uint64(6) * S
    for j in range(6):
        q = np.uint64(j * L)
        p0 = p + np.uint64(j) * S
        p1, p2, p3 = p0 + S6, p0 + S6 + S6, p0 + np.uint64(3) * S6
        p4, p5 = p0 + np.uint64(4) * S6, p0 + np.uint64(5) * S6
        for t0 in range(L):
            t = np.uint64(t0)
            Q[q + t] = _at(a, Mf[p0 + t], Mf[p1 + t], Mf[p2 + t], Mf[p3 + t], Mf[p4 + t],
                           Mf[p5 + t], k0, k1, k2, k3, k4, k5)


@njit(inline="always", cache=True)
def _times_A(Y, y, Q, L, b, k0, k1, k2, k3, k4, k5, c):
    """``Y[y + t]`` = column ``c`` of ``q A`` ``+ b`` for the ``L`` tiles (``Q``: ``_at_rows``).
    One store stream per loop: more kept LLVM from vectorising."""
    T1 = np.uint64(L)
    T2, T3, T4, T5 = T1 + T1, T1 + T1 + T1, np.uint64(4 * L), np.uint64(5 * L)
    for t0 in range(L):
        t = np.uint64(t0)
        Y[y + t] = _at(c, Q[t], Q[T1 + t], Q[T2 + t], Q[T3 + t], Q[T4 + t], Q[T5 + t], k0, k1,
                       k2, k3, k4, k5) + b


@njit(cache=True)
def _output_unit43(Y, Q, Mf, p, S, L, LS, b, k):
    """``Y`` (16 streams, stride ``LS``: row a and column c of every tile's 4x4 outputs as
    stream ``4 * a + c``) = ``A^T m A + b`` for the ``L`` tiles at ``Mf[p + k * S]``, a row of
    ``A^T`` at a time (``Q``: its 6 columns)."""
    k0, k1, k2, k3, k4, k5 = k[0], k[1], k[2], k[3], k[4], k[5]  # scalars: hoisted
    for a in range(4):
        if a == 0:
            _at_rows(Q, Mf, p, S, L, k0, k1, k2, k3, k4, k5, 0)
        elif a == 1:
            _at_rows(Q, Mf, p, S, L, k0, k1, k2, k3, k4, k5, 1)
        elif a == 2:
            _at_rows(Q, Mf, p, S, L, k0, k1, k2, k3, k4, k5, 2)
        else:
            _at_rows(Q, Mf, p, S, L, k0, k1, k2, k3, k4, k5, 3)
        y = np.uint64(4 * a) * np.uint64(LS)
        _times_A(Y, y, Q, L, b, k0, k1, k2, k3, k4, k5, 0)
        _times_A(Y, y + np.uint64(LS), Q, L, b, k0, k1, k2, k3, k4, k5, 1)
        _times_A(Y, y + np.uint64(2 * LS), Q, L, b, k0, k1, k2, k3, k4, k5, 2)
        _times_A(Y, y + np.uint64(3 * LS), Q, L, b, k0, k1, k2, k3, k4, k5, 3)


@njit(parallel=True, cache=True)
def output_transform43(y, M, bias, res, relu):
    """``y`` (N, O, OH, OW) from the products ``M`` (36, O, T): each tile's ``A^T m A`` plus
    ``bias[o]`` (``bias`` (O,), zeros for none: one signature serves both), plus ``res[n, o]``
    when ``res`` (shaped like ``y``) is not empty, then ReLU when ``relu``: a folded
    BatchNorm's shift, a BasicBlock's residual and its ReLU cost no pass of their own.

    Parallel over (output channel, group of images): iteration (o, group) writes only
    ``y[group, o]``. Tile row ``ty`` writes output rows ``4 * ty .. 4 * ty + 3``, dropped past
    the output's edge, as are columns.
    """
    N, O, OH, OW = y.shape
    TH, TW = (OH + 3) // 4, (OW + 3) // 4
    TT = TH * TW
    G = _images_per_unit(N, TT)
    NG = (N + G - 1) // G
    LS = G * TT
    S = np.uint64(O * M.shape[2])
    Mf, yf, rf = M.reshape(-1), y.reshape(-1), res.reshape(-1)
    has_r = res.size > 0
    zero = np.zeros(1, y.dtype)[0]
    idx = _output_index(OH, OW, TW, 4, LS)
    for unit in prange(O * NG):
        o, n0 = unit // NG, (unit % NG) * G
        n1 = min(N, n0 + G)
        Y = np.empty(16 * LS, y.dtype)
        Q = np.empty(6 * LS, y.dtype)
        # the factors in the arrays' dtype: a float literal would make numba compute a float32
        # expression in float64
        k = np.empty(6, y.dtype)
        k[0], k[1], k[2], k[3], k[4], k[5] = 0.5, 0.25, 0.125, 2.0, 4.0, 8.0
        _output_unit43(Y, Q, Mf, np.uint64(o * M.shape[2] + n0 * TT), S, (n1 - n0) * TT, LS,
                       bias[o], k)
        _write_images(yf, rf, Y, idx, n0, n1, o, O, TT, has_r, relu, zero)


# a forward that runs once (ops.conv.forward_once) takes these: half the compile time
output_transform_serial = serial_twin(output_transform)
# one thread's slice of a pipelined convolution (ops.conv_winograd.forward_pipelined)
output_transform43_serial = serial_twin(output_transform43)
