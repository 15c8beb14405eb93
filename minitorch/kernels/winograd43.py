"""Winograd F(4x4, 3x3) forward transforms for 3x3, stride-1 convolutions (no-backward sibling
of ``winograd.py``'s F(2x2, 3x3)).

6x6 input tiles (stride 4, neighbours overlapping by two) give each tile's 4x4 outputs as
``Y = A^T [(G g G^T) * (B^T d B)] A``: 36 multiplications per 16 outputs and channel pair, against
F(2x2, 3x3)'s 64 and a direct convolution's 144, so the 36 GEMMs ``M[k] = U[k] @ V[k]`` do 1.78x
fewer flops than F(2x2, 3x3)'s 16, and ``V`` is 2.25x the input where F(2x2, 3x3)'s is 4x.
Interpolation points 0, 1, -1, 1/2, -2 and infinity: of the usual sets, the one with the
smallest float32 error (0, +-1, +-2 gives 2-3x more):

    B^T = [1 -3/2   -2  3/2    1  0]   G = [    1      0      0 ]   A^T = [1  1  1   1    1  0]
          [0   -1  1/2  5/2    1  0]       [  1/3    1/3    1/3 ]         [0  1 -1 1/2   -2  0]
          [0    1 -5/2  1/2    1  0]       [ -1/3    1/3   -1/3 ]         [0  1  1 1/4    4  0]
          [0   -2   -1    2    1  0]       [-16/15 -8/15  -4/15 ]         [0  1 -1 1/8   -8  1]
          [0  1/2   -1 -1/2    1  0]       [ 1/15  -2/15   4/15 ]
          [0    1 -3/2   -2  3/2  1]       [    0      0      1 ]

Apart from G's thirds and fifteenths (``weight_transform43`` works in float64, rounding once) every
factor is a small power of two or a sum of two, but they reach 8: measured against a float64
convolution at ResNet-18's shapes the float32 result is off by about 3e-6 of the output's largest
value (F(2x2, 3x3): 4e-7), well inside the 1e-4 the model parity tests allow.

Only the forward is here: a training step's backward keeps F(2x2, 3x3)'s adjoints (it recomputes
what it needs from the saved input and weight, so the forward's algorithm does not matter to it).
Layout as in ``winograd.py``: ``V`` (36, C, LD), ``U`` (36, O, C), ``M`` (36, O, LD), rows of
length ``LD >= T`` of which the first ``T = N * TH * TW`` are used; plane ``k = 6 * i + j`` holds
element (i, j) of each tile. Tile ``t = (n, ty, tx)`` reads input rows
``4*ty - PH .. 4*ty - PH + 5`` (zero outside) and writes output rows ``4*ty .. 4*ty + 3``
(dropped past the output's edge).
"""
import numpy as np
from numba import njit, prange

from .winograd import _block_range, _blocks
from .winograd_scatter import output_transform43

__all__ = ["tiles43", "weight_transform43", "input_transform43", "output_transform43"]


@njit(cache=True)
def tiles43(OH, OW):
    """Tile rows and columns covering an (OH, OW) output."""
    return (OH + 3) // 4, (OW + 3) // 4


@njit(inline="always", cache=True)
def _g(r, g0, g1, g2, third, fifteenth):
    """Row ``r`` of ``G`` times (g0, g1, g2), in float64. Inlined with a constant ``r``."""
    if r == 0:
        return g0
    if r == 1:
        return (g0 + g1 + g2) * third
    if r == 2:
        return (g1 - g0 - g2) * third
    if r == 3:
        return -(16 * g0 + 8 * g1 + 4 * g2) * fifteenth
    if r == 4:
        return (g0 - 2 * g1 + 4 * g2) * fifteenth
    return g2


@njit(inline="always", cache=True)
def _g_run(dst, d, s, a0, a1, a2, C, r, third, fifteenth):
    """``dst[d + c] = _g(r, s[a0 + c], s[a1 + c], s[a2 + c])`` for c < C: one run over the
    input channels (contiguous: vectorised), rounded to ``dst``'s dtype."""
    for c0 in range(C):
        c = np.uint64(c0)
        dst[d + c] = _g(r, s[a0 + c], s[a1 + c], s[a2 + c], third, fifteenth)


@njit(parallel=True, cache=True)
def weight_transform43(U, w, scale):
    """``U[6*i + j, o, c] = (G g G^T)[i, j]`` for each 3x3 filter ``g = scale[o] * w[o, c]``
    (``scale`` (O,) float64, ones for none: one signature; the product rounded to ``w``'s dtype
    first, as ``nn.fuse`` folds a BatchNorm into a weight), computed in float64 and rounded once.

    So a frozen, folded convolution can transform the module's own weight on each call instead
    of keeping a folded copy of it (layer4: 9.4 MB each). Parallel over the output channels o:
    iteration o writes only ``U[:, o, :]``. Per o, the filters are laid out as 9 runs over the
    input channels (float64), ``t = G g`` as 18 runs and each of ``U``'s 36 rows as one run, so
    every step is a contiguous loop over c (vectorised) where a loop over one filter at a time
    was not: the same float operations in the same order as that loop (bitwise its result),
    about 30% less CPU at 512x512 channels (writing ``U``, 37.7 MB there, is most of the rest).
    """
    O, C = w.shape[0], w.shape[1]
    third, fifteenth = 1.0 / 3.0, 1.0 / 15.0
    Cu = np.uint64(C)
    P = np.uint64(O * C)  # the distance between two planes of U
    Uf = U.reshape(-1)
    for o in prange(O):
        r = np.empty(9 * C, w.dtype)  # the scaled filters, rounded to w's dtype
        s = np.empty(9 * C, np.float64)  # s[(3a + b) * C + c] = that, for filter w[o, c]
        t = np.empty(18 * C, np.float64)  # t[(3i + b) * C + c] = (G g)[i, b]
        so = scale[o]
        for c in range(C):
            for ab in range(9):
                r[ab * C + c] = np.float64(w[o, c, ab // 3, ab % 3]) * so
        for i in range(9 * C):
            s[i] = np.float64(r[i])
        for b in range(3):  # t = G g, column b of every filter: rows i = 0 .. 5
            bu = np.uint64(b)
            a0, a1, a2 = bu * Cu, (bu + np.uint64(3)) * Cu, (bu + np.uint64(6)) * Cu
            _g_run(t, bu * Cu, s, a0, a1, a2, C, 0, third, fifteenth)
            _g_run(t, (bu + np.uint64(3)) * Cu, s, a0, a1, a2, C, 1, third, fifteenth)
            _g_run(t, (bu + np.uint64(6)) * Cu, s, a0, a1, a2, C, 2, third, fifteenth)
            _g_run(t, (bu + np.uint64(9)) * Cu, s, a0, a1, a2, C, 3, third, fifteenth)
            _g_run(t, (bu + np.uint64(12)) * Cu, s, a0, a1, a2, C, 4, third, fifteenth)
            _g_run(t, (bu + np.uint64(15)) * Cu, s, a0, a1, a2, C, 5, third, fifteenth)
        for i in range(6):  # U = t G^T, row i of every filter's 6x6 into planes 6i .. 6i + 5
            t0 = np.uint64(3 * i) * Cu
            t1, t2 = t0 + Cu, t0 + Cu + Cu
            u = (np.uint64(6 * i) * np.uint64(O) + np.uint64(o)) * Cu
            _g_run(Uf, u, t, t0, t1, t2, C, 0, third, fifteenth)
            _g_run(Uf, u + P, t, t0, t1, t2, C, 1, third, fifteenth)
            _g_run(Uf, u + np.uint64(2) * P, t, t0, t1, t2, C, 2, third, fifteenth)
            _g_run(Uf, u + np.uint64(3) * P, t, t0, t1, t2, C, 3, third, fifteenth)
            _g_run(Uf, u + np.uint64(4) * P, t, t0, t1, t2, C, 4, third, fifteenth)
            _g_run(Uf, u + np.uint64(5) * P, t, t0, t1, t2, C, 5, third, fifteenth)


@njit(cache=True)
def _factors(dtype, a, b, c, d, e, f):
    """The transforms' constant factors in the arrays' dtype: a float literal would make numba
    compute a float32 expression in float64 (slower, and not what the float64 reference does)."""
    k = np.empty(6, dtype)
    k[0], k[1], k[2], k[3], k[4], k[5] = a, b, c, d, e, f
    return k


@njit(cache=True)
def _phase_rows(P, x, PH, PW, TH, TW):
    """The padded plane of ``x`` (H, W) rearranged so that every tile element is one contiguous
    run over the plane's tiles: ``P[(b * R + row(h)) * TW + tx] = padded[h, 4 * tx + b]`` for
    the six columns ``b`` of a tile, ``row(h) = (h % 4) * (TH + 1) + h // 4`` and
    ``R = 4 * (TH + 1)`` rows per column. Element (a, b) of tile t = (ty, tx) then sits at
    ``base[6a + b] + t`` (see ``_tile_bases``): each transform step below is a loop over all
    the plane's tiles at once (196 at 56x56) with contiguous loads, which vectorises, where a
    loop over one tile row's 14 tiles with stride-4 loads did not. Zero outside ``x``."""
    H, W = x.shape
    R = 4 * (TH + 1)
    xf = x.reshape(-1)
    for h in range(4 * TH + 2):
        r = (h % 4) * (TH + 1) + h // 4
        hh = h - PH
        for b in range(6):
            o = (b * R + r) * TW
            lo, hi = TW, TW  # the tiles whose column 4 * tx + b - PW lies in [0, W)
            if 0 <= hh < H:
                off = b - PW
                lo = 0 if off >= 0 else (3 - off) // 4
                hi = max(lo, min(TW, (W - 1 - off) // 4 + 1)) if W - 1 - off >= 0 else lo
                s = hh * W + off
                for tx in range(lo, hi):
                    P[np.uint64(o + tx)] = xf[np.uint64(s + 4 * tx)]
            for tx in range(lo):
                P[np.uint64(o + tx)] = 0
            for tx in range(hi, TW):
                P[np.uint64(o + tx)] = 0


@njit(cache=True)
def _tile_bases(TH, TW):
    """``base[6a + b]``: where element (a, b) of tile 0 sits in ``_phase_rows``'s layout."""
    R = 4 * (TH + 1)
    base = np.empty(36, np.uint64)
    for a in range(6):
        for b in range(6):
            base[6 * a + b] = np.uint64((b * R + (a % 4) * (TH + 1) + a // 4) * TW)
    return base


@njit(inline="always", cache=True)
def _bt(i, d0, d1, d2, d3, d4, d5, k0, k1, k2, k3):
    """Row ``i`` of ``B^T`` times (d0 .. d5); ``k0 .. k3`` are 0.5, 1.5, 2 and 2.5 in the
    arrays' dtype. Inlined with a constant ``i``, so the branches fold away."""
    if i == 0:
        return (d0 - k2 * d2 + d4) + k1 * (d3 - d1)
    if i == 1:
        return (d4 - d1) + k0 * d2 + k3 * d3
    if i == 2:
        return (d1 + d4) - k3 * d2 + k0 * d3
    if i == 3:
        return k2 * (d3 - d1) + (d4 - d2)
    if i == 4:
        return k0 * (d1 - d3) + (d4 - d2)
    return (d1 - k2 * d3 + d5) + k1 * (d4 - d2)


@njit(inline="always", cache=True)
def _bt_rows(Q, P, base, TT, k0, k1, k2, k3, i):
    """``Q[b * TT + t]`` = row ``i`` of ``B^T d`` for column b of every tile t of the plane."""
    for b in range(6):
        q = np.uint64(b * TT)
        c0, c1, c2 = base[b], base[6 + b], base[12 + b]
        c3, c4, c5 = base[18 + b], base[24 + b], base[30 + b]
        for t0 in range(TT):
            t = np.uint64(t0)
            Q[q + t] = _bt(i, P[c0 + t], P[c1 + t], P[c2 + t], P[c3 + t], P[c4 + t], P[c5 + t],
                           k0, k1, k2, k3)


@njit(inline="always", cache=True)
def _times_B(Vf, p, Q, TT, k0, k1, k2, k3, j):
    """One plane's run of ``V``: column ``j`` of ``q B`` for every tile (``Q`` from
    ``_bt_rows``). One store stream per loop: more kept LLVM from vectorising."""
    T1 = np.uint64(TT)
    T2, T3, T4, T5 = T1 + T1, T1 + T1 + T1, np.uint64(4 * TT), np.uint64(5 * TT)
    for t0 in range(TT):
        t = np.uint64(t0)
        Vf[p + t] = _bt(j, Q[t], Q[T1 + t], Q[T2 + t], Q[T3 + t], Q[T4 + t], Q[T5 + t], k0, k1,
                        k2, k3)


@njit(inline="always", cache=True)
def _transform_row(Vf, p, S, Q, P, base, TT, k0, k1, k2, k3, i):
    """Planes ``6i .. 6i + 5`` of ``V`` for one (n, c) plane (``p``: plane 6i's run)."""
    _bt_rows(Q, P, base, TT, k0, k1, k2, k3, i)
    _times_B(Vf, p, Q, TT, k0, k1, k2, k3, 0)
    _times_B(Vf, p + S, Q, TT, k0, k1, k2, k3, 1)
    _times_B(Vf, p + np.uint64(2) * S, Q, TT, k0, k1, k2, k3, 2)
    _times_B(Vf, p + np.uint64(3) * S, Q, TT, k0, k1, k2, k3, 3)
    _times_B(Vf, p + np.uint64(4) * S, Q, TT, k0, k1, k2, k3, 4)
    _times_B(Vf, p + np.uint64(5) * S, Q, TT, k0, k1, k2, k3, 5)


@njit(cache=True)
def _input_plane43(Vf, o, S, P, Q, base, TT, k):
    """All 36 runs of one (n, c) plane in ``V`` (plane 0's at flat offset ``o``)."""
    k0, k1, k2, k3 = k[0], k[1], k[2], k[3]  # scalars: loads from ``k`` would not be hoisted
    S6 = np.uint64(6) * S
    _transform_row(Vf, o, S, Q, P, base, TT, k0, k1, k2, k3, 0)
    _transform_row(Vf, o + S6, S, Q, P, base, TT, k0, k1, k2, k3, 1)
    _transform_row(Vf, o + np.uint64(2) * S6, S, Q, P, base, TT, k0, k1, k2, k3, 2)
    _transform_row(Vf, o + np.uint64(3) * S6, S, Q, P, base, TT, k0, k1, k2, k3, 3)
    _transform_row(Vf, o + np.uint64(4) * S6, S, Q, P, base, TT, k0, k1, k2, k3, 4)
    _transform_row(Vf, o + np.uint64(5) * S6, S, Q, P, base, TT, k0, k1, k2, k3, 5)


@njit(parallel=True, cache=True)
def input_transform43(V, x, PH, PW):
    """``V[k, c, t] = (B^T d B)[k]`` for every 6x6 input tile ``d`` of ``x`` (N, C, H, W).

    Parallel over blocks of (n, c) planes: plane (n, c) writes only ``V[:, c, t]`` for the tiles
    of image n. Per plane, its padded copy is laid out by tile column and row phase
    (``_phase_rows``), then ``B^T d`` and ``(B^T d) B`` run over all the plane's tiles at once,
    each of the 36 planes of ``V`` getting one contiguous run (the same float operations as
    before, in the same order: bitwise the earlier tile-row-at-a-time kernel, 25-30% less CPU
    at ResNet-18's layer1 and layer2).
    """
    N, C, H, W = x.shape
    TH, TW = tiles43(H + 2 * PH - 2, W + 2 * PW - 2)
    TT = TH * TW
    LD = V.shape[2]
    S = np.uint64(C * LD)
    Vf = V.reshape(-1)
    base = _tile_bases(TH, TW)
    for blk in prange(_blocks(N * C)):
        P = np.empty(24 * (TH + 1) * TW, x.dtype)
        Q = np.empty(6 * TT, x.dtype)
        k = _factors(x.dtype, 0.5, 1.5, 2.0, 2.5, 0.0, 0.0)
        for nc in _block_range(blk, N * C):
            n, c = nc // C, nc % C
            _phase_rows(P, x[n, c], PH, PW, TH, TW)
            _input_plane43(Vf, np.uint64(c * LD + n * TT), S, P, Q, base, TT, k)
