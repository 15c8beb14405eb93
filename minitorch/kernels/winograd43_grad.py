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

from . import winograd_gather as WGG
from .twin import serial_twin
from .winograd43 import _factors, tiles43

__all__ = ["output_transform_adjoint43", "output_transform_adjoint43_serial",
           "weight_grad_transform43"]


@njit(inline="always", cache=True)
def _a(i, g0, g1, g2, g3, k0, k1, k2, k3, k4, k5):
    """Row ``i`` of ``A`` times (g0 .. g3); ``k0 .. k5`` are 0.5, 0.25, 0.125, 2, 4 and 8 in the
    arrays' dtype. Inlined with a constant ``i``, so the branches fold away."""
    s02, s13 = g0 + g2, g1 + g3
    if i == 0:
        return g0
    if i == 1:
        return s02 + s13
    if i == 2:
        return s02 - s13
    if i == 3:
        return (g0 + k0 * g1) + (k1 * g2 + k2 * g3)
    if i == 4:
        return (g0 - k3 * g1) + (k4 * g2 - k5 * g3)
    return g3


@njit(inline="always", cache=True)
def _a_run(dMf, p, Q, L, k0, k1, k2, k3, k4, k5, i):
    """One plane's run of ``dM``: row ``i`` of ``A`` times column j of every tile's ``q``."""
    Lu = np.uint64(L)
    for t0 in range(L):
        t = np.uint64(t0)
        dMf[p + t] = _a(i, Q[t], Q[Lu + t], Q[Lu + Lu + t], Q[np.uint64(3) * Lu + t], k0, k1,
                        k2, k3, k4, k5)


@njit(inline="always", cache=True)
def _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, j):
    """Column ``j`` of ``q = dY A^T`` for each tile row a into ``Q[a * L + t]`` (``G``: the
    tiles' 16 elements as runs)."""
    Lu = np.uint64(L)
    for a in range(4):
        q, e = np.uint64(a) * Lu, np.uint64(4 * a) * Lu
        for t0 in range(L):
            t = np.uint64(t0)
            Q[q + t] = _a(j, G[e + t], G[e + Lu + t], G[e + Lu + Lu + t],
                          G[e + np.uint64(3) * Lu + t], k0, k1, k2, k3, k4, k5)


@njit(cache=True)
def _adjoint_column(dMf, p, S6, Q, G, L, k0, k1, k2, k3, k4, k5, j):
    """Planes ``j, 6 + j, .. 30 + j`` of ``dM`` for one chunk of tiles (``p``: plane j's run):
    column j of ``dY A^T``, then ``A`` times it. Called with a variable ``j`` (the branch taken
    once a call): 12 loops to compile, not 60 (14 s, now 5)."""
    if j == 0:
        _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, 0)
    elif j == 1:
        _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, 1)
    elif j == 2:
        _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, 2)
    elif j == 3:
        _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, 3)
    elif j == 4:
        _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, 4)
    else:
        _times_At(Q, G, L, k0, k1, k2, k3, k4, k5, 5)
    _a_run(dMf, p, Q, L, k0, k1, k2, k3, k4, k5, 0)
    _a_run(dMf, p + S6, Q, L, k0, k1, k2, k3, k4, k5, 1)
    _a_run(dMf, p + np.uint64(2) * S6, Q, L, k0, k1, k2, k3, k4, k5, 2)
    _a_run(dMf, p + np.uint64(3) * S6, Q, L, k0, k1, k2, k3, k4, k5, 3)
    _a_run(dMf, p + np.uint64(4) * S6, Q, L, k0, k1, k2, k3, k4, k5, 4)
    _a_run(dMf, p + np.uint64(5) * S6, Q, L, k0, k1, k2, k3, k4, k5, 5)


@njit(parallel=True, cache=True)
def output_transform_adjoint43(dM, dy):
    """``dM[:, o, t] = A dY A^T`` for each tile's 4x4 output gradient ``dY`` (zero past the edge).

    Parallel over blocks of (channel o, chunk of images) items (``winograd_gather``): item
    (o, chunk) writes only ``dM[:, o, t]`` for the chunk's tiles. Its tiles' 16 elements are
    gathered into runs, then ``dY A^T`` and ``A (dY A^T)`` run over all the chunk's tiles at
    once, each of the 36 planes of ``dM`` getting one contiguous run: the same float operations
    in the same order as the tile-row-at-a-time kernel before it (bitwise its result; one
    thread, 2.3-6x less time from 56x56 to 16x16 maps).
    """
    N, O, OH, OW = dy.shape
    TH, TW = tiles43(OH, OW)
    TT = TH * TW
    g, TB, chunks = WGG.chunk_plan(N, TH, TW)
    R, Wp = 4 * TB, 4 * TW
    I = WGG.tile_corners(g, TB, TW, R, Wp, 4)
    off = WGG.element_offsets(4, Wp)
    LD = dM.shape[2]
    S = np.uint64(O * LD)
    dMf, dyf = dM.reshape(-1), dy.reshape(-1)
    items = O * chunks
    for blk in prange(WGG.item_blocks(items)):
        Dp = np.zeros(g * R * Wp, dy.dtype)  # zero past the edge
        G = np.empty(16 * g * TB * TW, dy.dtype)
        Q = np.empty(4 * g * TB * TW, dy.dtype)
        k = _factors(dy.dtype, 0.5, 0.25, 0.125, 2.0, 4.0, 8.0)
        for it in WGG.block_items(blk, items):
            o = it // chunks
            n0, n1, ty0, ty1 = WGG.chunk_bounds(it % chunks, N, TH, g, TB)
            L = (n1 - n0) * (ty1 - ty0) * TW
            WGG.padded_images(Dp, dyf, n0, n1, o, O, OH, OW, 0, 0, 4 * ty0, R, Wp)
            WGG.gather(G, L, Dp, I, off)
            p = np.uint64(o * LD + n0 * TT + ty0 * TW)
            for j in range(6):  # planes j, 6 + j, .. 30 + j
                _adjoint_column(dMf, p + np.uint64(j) * S, np.uint64(6) * S, Q, G, L, k[0], k[1],
                                k[2], k[3], k[4], k[5], j)


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


# one thread's slice of a pipelined weight gradient (ops.conv_winograd_grad)
output_transform_adjoint43_serial = serial_twin(output_transform_adjoint43)
