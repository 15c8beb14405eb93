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

from .activation import relu_value
from .winograd import _block_range, _blocks, _padded_plane

__all__ = ["tiles43", "weight_transform43", "input_transform43", "output_transform43"]


@njit(cache=True)
def tiles43(OH, OW):
    """Tile rows and columns covering an (OH, OW) output."""
    return (OH + 3) // 4, (OW + 3) // 4


@njit(parallel=True, cache=True)
def weight_transform43(U, w):
    """``U[6*i + j, o, c] = (G g G^T)[i, j]`` for each 3x3 filter ``g = w[o, c]``, computed in
    float64 and rounded once. Parallel over the output channels o: iteration o writes only
    ``U[:, o, :]``, first into a (C, 36) float64 scratch, then row by row: written directly, the
    36 planes of ``U`` (1 MiB apart at 512 channels) alias in the cache and it ran 4x slower."""
    O, C = w.shape[0], w.shape[1]
    third, fifteenth = 1.0 / 3.0, 1.0 / 15.0
    for o in prange(O):
        t = np.empty((6, 3), np.float64)
        u = np.empty((C, 36), np.float64)
        for c in range(C):
            for j in range(3):  # t = G g
                g0, g1, g2 = np.float64(w[o, c, 0, j]), np.float64(w[o, c, 1, j]), \
                    np.float64(w[o, c, 2, j])
                t[0, j] = g0
                t[1, j] = (g0 + g1 + g2) * third
                t[2, j] = (g1 - g0 - g2) * third
                t[3, j] = -(16 * g0 + 8 * g1 + 4 * g2) * fifteenth
                t[4, j] = (g0 - 2 * g1 + 4 * g2) * fifteenth
                t[5, j] = g2
            for i in range(6):  # U = t G^T
                g0, g1, g2 = t[i, 0], t[i, 1], t[i, 2]
                u[c, 6 * i + 0] = g0
                u[c, 6 * i + 1] = (g0 + g1 + g2) * third
                u[c, 6 * i + 2] = (g1 - g0 - g2) * third
                u[c, 6 * i + 3] = -(16 * g0 + 8 * g1 + 4 * g2) * fifteenth
                u[c, 6 * i + 4] = (g0 - 2 * g1 + 4 * g2) * fifteenth
                u[c, 6 * i + 5] = g2
        for k in range(36):
            for c in range(C):
                U[k, o, c] = u[c, k]


@njit(cache=True)
def _factors(dtype, a, b, c, d, e, f):
    """The transforms' constant factors in the arrays' dtype: a float literal would make numba
    compute a float32 expression in float64 (slower, and not what the float64 reference does)."""
    k = np.empty(6, dtype)
    k[0], k[1], k[2], k[3], k[4], k[5] = a, b, c, d, e, f
    return k


@njit(cache=True)
def _rows_times_B(Vf, o, S, q, k, TW):
    """``q B`` for the TW tiles of one row ``q`` (4*TW + 2 wide) of ``B^T d``, into six planes of
    ``V`` (flat offset ``o``, planes ``S`` apart): one contiguous run per plane. ``k`` holds
    0.5, 1.5, 2 and 2.5 in the arrays' dtype (see ``_factors``)."""
    for tx in range(TW):
        e = 4 * tx
        Vf[o + np.uint64(tx)] = (q[e] - k[2] * q[e + 2] + q[e + 4]) + k[1] * (q[e + 3] - q[e + 1])
    o += S
    for tx in range(TW):
        e = 4 * tx
        Vf[o + np.uint64(tx)] = (q[e + 4] - q[e + 1]) + k[0] * q[e + 2] + k[3] * q[e + 3]
    o += S
    for tx in range(TW):
        e = 4 * tx
        Vf[o + np.uint64(tx)] = (q[e + 1] + q[e + 4]) - k[3] * q[e + 2] + k[0] * q[e + 3]
    o += S
    for tx in range(TW):
        e = 4 * tx
        Vf[o + np.uint64(tx)] = k[2] * (q[e + 3] - q[e + 1]) + (q[e + 4] - q[e + 2])
    o += S
    for tx in range(TW):
        e = 4 * tx
        Vf[o + np.uint64(tx)] = k[0] * (q[e + 1] - q[e + 3]) + (q[e + 4] - q[e + 2])
    o += S
    for tx in range(TW):
        e = 4 * tx
        Vf[o + np.uint64(tx)] = (q[e + 1] - k[2] * q[e + 3] + q[e + 5]) \
            + k[1] * (q[e + 4] - q[e + 2])


@njit(parallel=True, cache=True)
def input_transform43(V, x, PH, PW):
    """``V[k, c, t] = (B^T d B)[k]`` for every 6x6 input tile ``d`` of ``x`` (N, C, H, W).

    Parallel over blocks of (n, c) planes: plane (n, c) writes only ``V[:, c, t]`` for the tiles
    of image n. Per tile row, ``B^T d`` runs over the whole padded row width at once.
    """
    N, C, H, W = x.shape
    TH, TW = tiles43(H + 2 * PH - 2, W + 2 * PW - 2)
    LD = V.shape[2]
    S = np.uint64(C * LD)
    Vf = V.reshape(-1)
    L = 4 * TW + 2
    for blk in prange(_blocks(N * C)):
        xp = np.empty((4 * TH + 2, L), x.dtype)
        q = np.empty((6, L), x.dtype)
        k = _factors(x.dtype, 0.5, 1.5, 2.0, 2.5, 0.0, 0.0)
        for nc in _block_range(blk, N * C):
            n, c = nc // C, nc % C
            _padded_plane(xp, x[n, c], PH, PW)
            for ty in range(TH):
                h = 4 * ty
                for w in range(L):  # the six rows of B^T d
                    d0, d1, d2 = xp[h, w], xp[h + 1, w], xp[h + 2, w]
                    d3, d4, d5 = xp[h + 3, w], xp[h + 4, w], xp[h + 5, w]
                    q[0, w] = (d0 - k[2] * d2 + d4) + k[1] * (d3 - d1)
                    q[1, w] = (d4 - d1) + k[0] * d2 + k[3] * d3
                    q[2, w] = (d1 + d4) - k[3] * d2 + k[0] * d3
                    q[3, w] = k[2] * (d3 - d1) + (d4 - d2)
                    q[4, w] = k[0] * (d1 - d3) + (d4 - d2)
                    q[5, w] = (d1 - k[2] * d3 + d5) + k[1] * (d4 - d2)
                o = np.uint64(c * LD + n * TH * TW + ty * TW)
                for i in range(6):
                    _rows_times_B(Vf, o + np.uint64(6 * i) * S, S, q[i], k, TW)


@njit(parallel=True, cache=True)
def output_transform43(y, M, bias, res, relu):
    """``y`` (N, O, OH, OW) from the products ``M`` (36, O, T): each tile's ``A^T m A`` plus
    ``bias[o]`` (``bias`` (O,), zeros for none: one signature serves both), plus ``res[n, o]``
    when ``res`` (shaped like ``y``) is not empty, then ReLU when ``relu``. A folded
    BatchNorm's shift, a BasicBlock's residual and its ReLU are applied to each output row
    while it is in cache rather than in passes of their own.

    Parallel over blocks of (n, o) output planes: plane (n, o) writes only ``y[n, o]``.
    """
    N, O, OH, OW = y.shape
    TH, TW = tiles43(OH, OW)
    LD = M.shape[2]
    S = np.uint64(O * LD)
    S6 = np.uint64(6) * S  # from row i of a tile's 6x6 to row i + 1
    Mf = M.reshape(-1)
    has_r = res.size > 0
    zero = np.zeros(1, y.dtype)[0]
    for blk in prange(_blocks(N * O)):
        q = np.empty((4, 6, TW), y.dtype)  # the four rows of A^T m, per column j, per tile
        k = _factors(y.dtype, 0.5, 0.25, 0.125, 2.0, 4.0, 8.0)
        row = np.empty(4 * TW, y.dtype)
        for no in _block_range(blk, N * O):
            n, o = no // O, no % O
            b = bias[o]
            yp = y[n, o]
            for ty in range(TH):
                base = np.uint64(o * LD + n * TH * TW + ty * TW)
                for j in range(6):  # column j of A^T m, from six contiguous runs of M
                    p0 = base + np.uint64(j) * S
                    for tx in range(TW):
                        u = p0 + np.uint64(tx)
                        m0, m1, m2 = Mf[u], Mf[u + S6], Mf[u + S6 + S6]
                        m3, m4, m5 = Mf[u + np.uint64(3) * S6], Mf[u + np.uint64(4) * S6], \
                            Mf[u + np.uint64(5) * S6]
                        s12, d12 = m1 + m2, m1 - m2
                        q[0, j, tx] = m0 + s12 + (m3 + m4)
                        q[1, j, tx] = d12 + k[0] * m3 - k[3] * m4
                        q[2, j, tx] = s12 + k[1] * m3 + k[4] * m4
                        q[3, j, tx] = d12 + k[2] * m3 - k[5] * m4 + m5
                for a in range(4):
                    h = 4 * ty + a
                    if h >= OH:
                        break
                    for tx in range(TW):  # the row times A
                        c0, c1, c2 = q[a, 0, tx], q[a, 1, tx], q[a, 2, tx]
                        c3, c4, c5 = q[a, 3, tx], q[a, 4, tx], q[a, 5, tx]
                        s12, d12 = c1 + c2, c1 - c2
                        row[4 * tx] = (c0 + s12 + (c3 + c4)) + b
                        row[4 * tx + 1] = (d12 + k[0] * c3 - k[3] * c4) + b
                        row[4 * tx + 2] = (s12 + k[1] * c3 + k[4] * c4) + b
                        row[4 * tx + 3] = (d12 + k[2] * c3 - k[5] * c4 + c5) + b
                    if not (has_r or relu):
                        for w in range(OW):
                            yp[h, w] = row[w]
                        continue
                    for w in range(OW):
                        v = row[w]
                        if has_r:
                            v += res[n, o, h, w]
                        yp[h, w] = relu_value(v, zero) if relu else v
