"""Winograd F(4x4, 3x3) weight-gradient transforms (the backward siblings of ``winograd43.py``).

The forward's tile is ``Y = A^T [U * V] A`` with ``U = G g G^T``; its adjoint for the weight is
``dM = A dY A^T`` per 4x4 output-gradient tile (``output_transform_adjoint43``), the 36 GEMMs
``dU[k] = dM[k] @ V[k]^T`` summed over tiles, and ``dg = G^T dU G`` per filter
(``weight_grad_transform43``, in float64, rounding once). The input gradient needs no kernel of
its own: it is the 3x3 stride-1 convolution of the output gradient with the flipped,
channel-transposed weight, which the forward's kernels compute (``ops/conv_winograd_grad.py``).

Same layout as ``winograd43.py``: ``dM`` (36, O, LD), rows of length ``LD >= T`` of which the
first ``T = N * TH * TW`` are used, plane ``k = 6 * i + j`` holds element (i, j) of each tile;
``dU`` (36, O, C). With ``A`` (6x4) the transpose of the forward's ``A^T``:

    A = [1    0    0    0 ]     G^T = [1  1/3  -1/3  -16/15   1/15  0]
        [1    1    1    1 ]           [0  1/3   1/3   -8/15  -2/15  0]
        [1   -1    1   -1 ]           [0  1/3  -1/3   -4/15   4/15  1]
        [1  1/2  1/4  1/8 ]
        [1   -2    4   -8 ]
        [0    0    0    1 ]
"""
import numpy as np
from numba import njit, prange

from .winograd import _block_range, _blocks
from .winograd43 import _factors, tiles43

__all__ = ["output_transform_adjoint43", "weight_grad_transform43"]


@njit(parallel=True, cache=True)
def output_transform_adjoint43(dM, dy):
    """``dM[:, o, t] = A dY A^T`` for each tile's 4x4 output gradient ``dY`` (zero past the edge).

    Parallel over blocks of (n, o) planes of ``dy``: plane (n, o) writes only ``dM[:, o, t]``
    for the tiles of image n. Per tile row, ``dY A^T`` runs over the four rows at once and each
    of the 36 planes of ``dM`` gets one contiguous run. Flat 1-d scratch with unsigned offsets,
    as ``winograd.input_transform_adjoint``: with 2-d and 3-d scratch numba took 2.5x longer
    to compile it.
    """
    N, O, OH, OW = dy.shape
    TH, TW = tiles43(OH, OW)
    LD = dM.shape[2]
    S = np.uint64(O * LD)
    S6 = np.uint64(6) * S  # from row i of a tile's 6x6 to row i + 1
    dMf, dyf = dM.reshape(-1), dy.reshape(-1)
    L = np.uint64(4 * TW)
    Q = np.uint64(TW)
    for blk in prange(_blocks(N * O)):
        g = np.zeros(4 * 4 * TW, dy.dtype)  # columns past OW are never written: stay zero
        q = np.empty(4 * 6 * TW, dy.dtype)  # q[(6a + j) TW + tx]: row a of dY A^T, column j
        k = _factors(dy.dtype, 0.5, 0.25, 0.125, 2.0, 4.0, 8.0)
        for no in _block_range(blk, N * O):
            n, o = no // O, no % O
            plane = np.uint64(no * OH * OW)
            for ty in range(TH):
                for a in range(4):
                    h = 4 * ty + a
                    ga = np.uint64(a) * L
                    src = plane + np.uint64(h * OW)
                    for w in range(OW):
                        u = np.uint64(w)
                        g[ga + u] = dyf[src + u] if h < OH else 0
                for a in range(4):  # each row times A^T
                    ga = np.uint64(a) * L
                    qa = np.uint64(6 * a) * Q
                    for tx in range(TW):
                        e = ga + np.uint64(4 * tx)
                        g0, g1, g2, g3 = g[e], g[e + 1], g[e + 2], g[e + 3]
                        s02, s13 = g0 + g2, g1 + g3
                        u = qa + np.uint64(tx)
                        q[u] = g0
                        q[u + Q] = s02 + s13
                        q[u + 2 * Q] = s02 - s13
                        q[u + 3 * Q] = (g0 + k[0] * g1) + (k[1] * g2 + k[2] * g3)
                        q[u + 4 * Q] = (g0 - k[3] * g1) + (k[4] * g2 - k[5] * g3)
                        q[u + 5 * Q] = g3
                base = np.uint64(o * LD + n * TH * TW + ty * TW)
                R = np.uint64(6) * Q  # from row a of q to row a + 1
                for j in range(6):  # A times column j: rows i into planes 6i + j
                    p = base + np.uint64(j) * S
                    for tx in range(TW):
                        v = np.uint64(j) * Q + np.uint64(tx)
                        r0, r1, r2, r3 = q[v], q[v + R], q[v + R + R], q[v + R + R + R]
                        s02, s13 = r0 + r2, r1 + r3
                        u = p + np.uint64(tx)
                        dMf[u] = r0
                        dMf[u + S6] = s02 + s13
                        dMf[u + S6 + S6] = s02 - s13
                        dMf[u + np.uint64(3) * S6] = (r0 + k[0] * r1) + (k[1] * r2 + k[2] * r3)
                        dMf[u + np.uint64(4) * S6] = (r0 - k[3] * r1) + (k[4] * r2 - k[5] * r3)
                        dMf[u + np.uint64(5) * S6] = r3


@njit(parallel=True, cache=True)
def weight_grad_transform43(dw, dU):
    """The adjoint of ``weight_transform43``: ``dw[o, c] = G^T du G`` for ``du`` the 6x6 of
    ``dU[:, o, c]``, in float64 and rounded once. Parallel over the output channels o:
    iteration o writes only ``dw[o]``."""
    O, C = dw.shape[0], dw.shape[1]
    third, fifteenth = 1.0 / 3.0, 1.0 / 15.0
    for o in prange(O):
        s = np.empty((3, 6), np.float64)
        for c in range(C):
            for j in range(6):  # s = G^T du
                u0, u1, u2 = np.float64(dU[j, o, c]), np.float64(dU[6 + j, o, c]), \
                    np.float64(dU[12 + j, o, c])
                u3, u4, u5 = np.float64(dU[18 + j, o, c]), np.float64(dU[24 + j, o, c]), \
                    np.float64(dU[30 + j, o, c])
                s[0, j] = u0 + (u1 - u2) * third + (u4 - 16 * u3) * fifteenth
                s[1, j] = (u1 + u2) * third - (8 * u3 + 2 * u4) * fifteenth
                s[2, j] = (u1 - u2) * third + (4 * u4 - 4 * u3) * fifteenth + u5
            for r in range(3):  # dw = s G
                a0, a1, a2, a3, a4, a5 = s[r, 0], s[r, 1], s[r, 2], s[r, 3], s[r, 4], s[r, 5]
                dw[o, c, r, 0] = a0 + (a1 - a2) * third + (a4 - 16 * a3) * fifteenth
                dw[o, c, r, 1] = (a1 + a2) * third - (8 * a3 + 2 * a4) * fifteenth
                dw[o, c, r, 2] = (a1 - a2) * third + (4 * a4 - 4 * a3) * fifteenth + a5
