"""Winograd F(2x2, 3x3) transforms for 3x3, stride-1 convolutions.

A 3x3 convolution computed on 4x4 input tiles (stride 2, so neighbouring tiles overlap by two)
gives each tile's 2x2 outputs as ``Y = A^T [(G g G^T) * (B^T d B)] A``: 16 multiplications per
tile and channel pair instead of im2col's 36, so the GEMM does 2.25x fewer flops. With the batch
of tiles laid out as 16 planes, the elementwise products summed over input channels become 16
independent GEMMs ``M[k] = U[k] @ V[k]`` (``U`` (16, O, C) the transformed weights, ``V``
(16, C, T) the transformed input tiles, ``T = N * tiles``), one batched ``np.matmul``.

The transforms only add, subtract and halve (exact in binary floating point apart from the sums'
rounding), which keeps this algorithm's error at float32 rounding; the larger F(4x4, 3x3) would
multiply by up to 8 and lose about two more digits.

    B^T = [1  0 -1  0]    G = [ 1    0    0 ]    A^T = [1  1  1  0]
          [0  1  1  0]        [1/2  1/2  1/2]          [0  1 -1 -1]
          [0 -1  1  0]        [1/2 -1/2  1/2]
          [0  1  0 -1]        [ 0    0    1 ]

The backward pass uses the adjoints: ``dM = A dY A^T`` per tile, ``dU[k] = dM[k] @ V[k]^T`` (the
weight gradient is ``G^T dU G``) and ``dV[k] = U[k]^T @ dM[k]``, folded back onto the input by
``B dV B^T`` summed over the overlapping tiles.

The (16, channels, T) arrays ``V``, ``M`` and their gradients are passed to the kernels whole,
C-contiguous, with rows of length ``LD >= T`` of which the first T are used: the convolution pads
LD so that rows are not a multiple of 1 KiB apart, the usual precaution against power-of-two
strides mapping a GEMM's operand rows onto the same cache sets (T = 16384 in the small ResNet's
first stage at batch 64). It was added while chasing 2-thread OpenBLAS products that ran up to
100x slower; those stalls turned out to come from OpenBLAS's threads waiting for each other on a
loaded machine and happened with or without the padding, so no speed-up is claimed for it.

Tile ``t = (n, ty, tx)`` reads input rows ``2*ty - PH .. 2*ty - PH + 3`` (zero outside) and writes
output rows ``2*ty, 2*ty + 1`` (dropped past the output's edge when its size is odd).
"""
import numpy as np
from numba import njit, prange

from . import winograd_gather as WGG
from .twin import serial_twin
from .winograd_scatter import (input_transform_adjoint, output_transform,
                               output_transform_serial)

__all__ = ["tiles", "input_transform", "input_transform_serial", "output_transform",
           "output_transform_serial", "output_transform_adjoint", "input_transform_adjoint",
           "weight_transform", "weight_transform_serial", "weight_transform_for",
           "weight_grad_transform"]

# planes per parallel iteration: the scratch rows are allocated once per block, not per plane
# (ResNet's last stage has 8192 planes of 7x7 at batch 16)
_BLOCK = 16


@njit(cache=True)
def tiles(OH, OW):
    """Tile rows and columns covering an (OH, OW) output."""
    return (OH + 1) // 2, (OW + 1) // 2


@njit(parallel=True, cache=True)
def weight_transform(U, w):
    """``U[k, o, c] = (G g G^T)[k // 4, k % 4]`` for each 3x3 filter ``g = w[o, c]``.

    Parallel over the output channels o: iteration o writes only ``U[:, o, :]``, first into a
    (C, 16) scratch, then row by row: written directly, the 16 planes of ``U`` (1 MiB apart at
    512 channels) alias in the cache and the transform took 70 ms for one layer4 weight.
    """
    O, C = w.shape[0], w.shape[1]
    for o in prange(O):
        t = np.empty((4, 3), w.dtype)
        u = np.empty((C, 16), w.dtype)
        for c in range(C):
            g = w[o, c]
            for j in range(3):  # t = G g
                t[0, j] = g[0, j]
                t[1, j] = 0.5 * (g[0, j] + g[1, j] + g[2, j])
                t[2, j] = 0.5 * (g[0, j] - g[1, j] + g[2, j])
                t[3, j] = g[2, j]
            for i in range(4):  # U = t G^T
                u[c, 4 * i + 0] = t[i, 0]
                u[c, 4 * i + 1] = 0.5 * (t[i, 0] + t[i, 1] + t[i, 2])
                u[c, 4 * i + 2] = 0.5 * (t[i, 0] - t[i, 1] + t[i, 2])
                u[c, 4 * i + 3] = t[i, 2]
        for k in range(16):
            for c in range(C):
                U[k, o, c] = u[c, k]


# Below this many values of U, the serial twin (twin.py): it compiles in half the time and is as
# fast (the digits job's weights, up to 128x128 channels); ResNet-18's 256 and 512-channel
# layers (U of 1M and 4M values) keep the parallel kernel.
_SERIAL_TRANSFORM_BELOW = 1 << 20
weight_transform_serial = serial_twin(weight_transform)


def weight_transform_for(U):
    """The weight transform kernel for this ``U``: the serial twin for small weights."""
    return weight_transform_serial if U.size < _SERIAL_TRANSFORM_BELOW else weight_transform

@njit(parallel=True, cache=True)
def weight_grad_transform(dw, dU):
    """The adjoint of ``weight_transform``: ``dw[o, c] = G^T du G`` for ``du = dU[:, o, c]``.

    Parallel over the output channels o: iteration o writes only ``dw[o]``.
    """
    O, C = dw.shape[0], dw.shape[1]
    for o in prange(O):
        s = np.empty((3, 4), dw.dtype)
        for c in range(C):
            for j in range(4):  # s = G^T du
                u0, u1 = dU[j, o, c], dU[4 + j, o, c]
                u2, u3 = dU[8 + j, o, c], dU[12 + j, o, c]
                s[0, j] = u0 + 0.5 * (u1 + u2)
                s[1, j] = 0.5 * (u1 - u2)
                s[2, j] = 0.5 * (u1 + u2) + u3
            for i in range(3):  # dw = s G
                dw[o, c, i, 0] = s[i, 0] + 0.5 * (s[i, 1] + s[i, 2])
                dw[o, c, i, 1] = 0.5 * (s[i, 1] - s[i, 2])
                dw[o, c, i, 2] = 0.5 * (s[i, 1] + s[i, 2]) + s[i, 3]


@njit(cache=True)
def _blocks(planes):
    """How many parallel iterations cover ``planes`` planes, ``_BLOCK`` planes each."""
    return (planes + _BLOCK - 1) // _BLOCK


@njit(cache=True)
def _block_range(blk, planes):
    return range(blk * _BLOCK, min((blk + 1) * _BLOCK, planes))


@njit(inline="always", cache=True)
def _bt(i, d0, d1, d2, d3):
    """Row ``i`` of ``B^T`` times (d0 .. d3). Inlined with a constant ``i``: no branches left."""
    if i == 0:
        return d0 - d2
    if i == 1:
        return d1 + d2
    if i == 2:
        return d2 - d1
    return d1 - d3


@njit(inline="always", cache=True)
def _bt_rows(Q, G, L, i):
    """Row ``i`` of ``B^T d`` for each tile column b into ``Q[b * L + t]`` (``G``: 16 runs)."""
    Lu = np.uint64(L)
    for b in range(4):
        c0 = np.uint64(b) * Lu
        c1, c2, c3 = c0 + np.uint64(4) * Lu, c0 + np.uint64(8) * Lu, c0 + np.uint64(12) * Lu
        for t0 in range(L):
            t = np.uint64(t0)
            Q[c0 + t] = _bt(i, G[c0 + t], G[c1 + t], G[c2 + t], G[c3 + t])


@njit(inline="always", cache=True)
def _times_B(Vf, p, Q, L, j):
    """One plane's run of ``V``: column ``j`` of ``q B`` for every tile."""
    Lu = np.uint64(L)
    for t0 in range(L):
        t = np.uint64(t0)
        Vf[p + t] = _bt(j, Q[t], Q[Lu + t], Q[Lu + Lu + t], Q[np.uint64(3) * Lu + t])


@njit(cache=True)
def _transform_row(Vf, p, S, Q, G, L, i):
    """Planes ``4i .. 4i + 3`` of ``V`` for one chunk of tiles (``p``: plane 4i's run). Called
    with a variable ``i`` (the branch taken once a call, not once an element): 8 loops to
    compile, not 32."""
    if i == 0:
        _bt_rows(Q, G, L, 0)
    elif i == 1:
        _bt_rows(Q, G, L, 1)
    elif i == 2:
        _bt_rows(Q, G, L, 2)
    else:
        _bt_rows(Q, G, L, 3)
    _times_B(Vf, p, Q, L, 0)
    _times_B(Vf, p + S, Q, L, 1)
    _times_B(Vf, p + S + S, Q, L, 2)
    _times_B(Vf, p + np.uint64(3) * S, Q, L, 3)


@njit(parallel=True, cache=True)
def input_transform(V, x, PH, PW):
    """``V[k, c, t] = (B^T d B)[k]`` for every 4x4 input tile ``d`` of ``x`` (N, C, H, W).

    Parallel over blocks of (channel, chunk of images) items (``winograd_gather``): item
    (c, chunk) writes only ``V[:, c, t]`` for the chunk's tiles. Its tiles' 16 elements are
    gathered into runs, then ``B^T d`` and ``(B^T d) B`` run over all the chunk's tiles at once,
    each of the 16 planes of ``V`` getting one contiguous run: the same float operations in the
    same order as the plane-at-a-time kernel before it (bitwise its result), which ran loops
    of TW tiles (2 at 4x4 maps): one thread, batch 64, 4x4 and 8x8 maps 5-8x less time, 28x28
    (batch 16) 1.9x. At 56x56 it takes 1.3x longer (16 gathered loads a tile where the old
    kernel's strided loads vectorised), but F(2x2, 3x3) only gets maps that large with fewer
    than 64 channels (``ops.conv_winograd.forward_planes``), which no ResNet-18 layer has.
    """
    N, C, H, W = x.shape
    TH, TW = tiles(H + 2 * PH - 2, W + 2 * PW - 2)
    TT = TH * TW
    g, TB, chunks = WGG.chunk_plan(N, TH, TW)
    R, Wp = 2 * TB + 2, 2 * TW + 2  # tiles may run one past the padding: zero there too
    I = WGG.tile_corners(g, TB, TW, R, Wp, 2)
    off = WGG.element_offsets(4, Wp)
    LD = V.shape[2]  # row length of V: at least N*TH*TW (see the module docstring)
    S = np.uint64(C * LD)  # distance between the 16 planes of V
    Vf, xf = V.reshape(-1), x.reshape(-1)
    items = C * chunks
    for blk in prange(WGG.item_blocks(items)):
        Xp = np.zeros(g * R * Wp, x.dtype)
        G = np.empty(16 * g * TB * TW, x.dtype)
        Q = np.empty(4 * g * TB * TW, x.dtype)
        for it in WGG.block_items(blk, items):
            c = it // chunks
            n0, n1, ty0, ty1 = WGG.chunk_bounds(it % chunks, N, TH, g, TB)
            L = (n1 - n0) * (ty1 - ty0) * TW
            WGG.padded_images(Xp, xf, n0, n1, c, C, H, W, PH, PW, 2 * ty0, R, Wp)
            WGG.gather(G, L, Xp, I, off)
            p = np.uint64(c * LD + n0 * TT + ty0 * TW)
            for i in range(4):  # planes 4i .. 4i + 3
                _transform_row(Vf, p + np.uint64(4 * i) * S, S, Q, G, L, i)


# a forward that runs once (ops.conv.forward_once) takes this: half the compile time
input_transform_serial = serial_twin(input_transform)


@njit(inline="always", cache=True)
def _a(i, g0, g1):
    """Row ``i`` of ``A`` = [[1, 0], [1, 1], [1, -1], [0, -1]] times (g0, g1)."""
    if i == 0:
        return g0
    if i == 1:
        return g0 + g1
    if i == 2:
        return g0 - g1
    return -g1


@njit(inline="always", cache=True)
def _a_rows(R, G, L, i):
    """``R[b * L + t]`` = row ``i`` of ``A g`` for column b of every tile's 2x2 ``g`` (``G``:
    four runs)."""
    Lu = np.uint64(L)
    for b in range(2):
        c0 = np.uint64(b) * Lu
        for t0 in range(L):
            t = np.uint64(t0)
            R[c0 + t] = _a(i, G[c0 + t], G[c0 + Lu + Lu + t])


@njit(inline="always", cache=True)
def _times_At(dMf, p, R, L, j):
    """One plane's run of ``dM``: column ``j`` of ``r A^T`` for every tile."""
    Lu = np.uint64(L)
    for t0 in range(L):
        t = np.uint64(t0)
        dMf[p + t] = _a(j, R[t], R[Lu + t])


@njit(cache=True)
def _adjoint_row(dMf, p, S, R, G, L, i):
    """Planes ``4i .. 4i + 3`` of ``dM`` for one chunk of tiles (``p``: plane 4i's run), with a
    variable ``i`` as ``_transform_row``."""
    if i == 0:
        _a_rows(R, G, L, 0)
    elif i == 1:
        _a_rows(R, G, L, 1)
    elif i == 2:
        _a_rows(R, G, L, 2)
    else:
        _a_rows(R, G, L, 3)
    _times_At(dMf, p, R, L, 0)
    _times_At(dMf, p + S, R, L, 1)
    _times_At(dMf, p + S + S, R, L, 2)
    _times_At(dMf, p + np.uint64(3) * S, R, L, 3)


@njit(parallel=True, cache=True)
def output_transform_adjoint(dM, dy):
    """``dM[:, o, t] = A dY A^T`` for each tile's 2x2 output gradient ``dY`` (zero past the edge).

    Parallel over blocks of (channel o, chunk of images) items, as ``input_transform``: item
    (o, chunk) writes only ``dM[:, o, t]`` for the chunk's tiles, each of the 16 planes one
    contiguous run (bitwise the plane-at-a-time kernel before it; one thread, 2-10x less time
    from 56x56 to 4x4 maps).
    """
    N, O, OH, OW = dy.shape
    TH, TW = tiles(OH, OW)
    TT = TH * TW
    g, TB, chunks = WGG.chunk_plan(N, TH, TW)
    R, Wp = 2 * TB, 2 * TW
    I = WGG.tile_corners(g, TB, TW, R, Wp, 2)
    off = WGG.element_offsets(2, Wp)
    LD = dM.shape[2]
    S = np.uint64(O * LD)
    dMf, dyf = dM.reshape(-1), dy.reshape(-1)
    items = O * chunks
    for blk in prange(WGG.item_blocks(items)):
        Dp = np.zeros(g * R * Wp, dy.dtype)  # zero past an odd edge
        G = np.empty(4 * g * TB * TW, dy.dtype)
        E = np.empty(2 * g * TB * TW, dy.dtype)  # rows of A g
        for it in WGG.block_items(blk, items):
            o = it // chunks
            n0, n1, ty0, ty1 = WGG.chunk_bounds(it % chunks, N, TH, g, TB)
            L = (n1 - n0) * (ty1 - ty0) * TW
            WGG.padded_images(Dp, dyf, n0, n1, o, O, OH, OW, 0, 0, 2 * ty0, R, Wp)
            WGG.gather(G, L, Dp, I, off)
            p = np.uint64(o * LD + n0 * TT + ty0 * TW)
            for i in range(4):  # planes 4i .. 4i + 3
                _adjoint_row(dMf, p + np.uint64(4 * i) * S, S, E, G, L, i)
