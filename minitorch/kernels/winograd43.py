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
from .winograd_gather import input_transform43, input_transform43_serial  # noqa: F401
from .winograd_scatter import output_transform43, output_transform43_serial  # noqa: F401

__all__ = ["tiles43", "weight_transform43", "input_transform43", "input_transform43_serial",
           "output_transform43", "output_transform43_serial"]


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
