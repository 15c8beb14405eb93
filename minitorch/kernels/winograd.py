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

from .twin import serial_twin
from .winograd_scatter import input_transform_adjoint, output_transform

__all__ = ["tiles", "input_transform", "output_transform", "output_transform_adjoint",
           "input_transform_adjoint", "weight_transform", "weight_transform_serial",
           "weight_transform_for", "weight_grad_transform"]

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


@njit(cache=True)
def _padded_plane(buf, xp, PH, PW):
    """Copy plane ``xp`` into the zeroed interior of ``buf``, so tile loads need no bounds test."""
    H, W = xp.shape
    buf[:, :] = 0
    for h in range(H):
        for w in range(W):
            buf[PH + h, PW + w] = xp[h, w]


@njit(cache=True)
def _row_times_B(Vf, o, S, q, TW):
    """Write ``q B`` for the TW tiles of one row ``q`` (2*TW + 2 wide) of ``B^T d`` into four
    planes of ``V`` (flat offset ``o``, planes ``S`` apart, tile ``tx`` at ``o + tx``): each
    plane's run is contiguous, so the stores vectorise."""
    for tx in range(TW):
        Vf[o + np.uint64(tx)] = q[2 * tx] - q[2 * tx + 2]
    o += S
    for tx in range(TW):
        Vf[o + np.uint64(tx)] = q[2 * tx + 1] + q[2 * tx + 2]
    o += S
    for tx in range(TW):
        Vf[o + np.uint64(tx)] = q[2 * tx + 2] - q[2 * tx + 1]
    o += S
    for tx in range(TW):
        Vf[o + np.uint64(tx)] = q[2 * tx + 1] - q[2 * tx + 3]


@njit(cache=True)
def _input_plane(Vf, o, S, xp, q, TH, TW):
    """All tiles of one padded input plane ``xp``: tile row ``ty`` starts at ``o + ty * TW``."""
    L = xp.shape[1]
    for ty in range(TH):
        r0, r1, r2, r3 = xp[2 * ty], xp[2 * ty + 1], xp[2 * ty + 2], xp[2 * ty + 3]
        for w in range(L):  # the four rows of B^T d, over the whole tile row at once
            q[0, w] = r0[w] - r2[w]
            q[1, w] = r1[w] + r2[w]
            q[2, w] = r2[w] - r1[w]
            q[3, w] = r1[w] - r3[w]
        for i in range(4):
            _row_times_B(Vf, o + np.uint64(ty * TW) + np.uint64(4 * i) * S, S, q[i], TW)


@njit(parallel=True, cache=True)
def input_transform(V, x, PH, PW):
    """``V[k, c, t] = (B^T d B)[k]`` for every 4x4 input tile ``d`` of ``x`` (N, C, H, W).

    Parallel over blocks of (n, c) planes: plane (n, c) writes only ``V[:, c, t]`` for the tiles
    ``t`` of image n, which no other plane writes. Per tile row, ``B^T d`` runs over whole
    (padded) input rows and each of the 16 planes of ``V`` gets one contiguous run, written
    through a flat view with unsigned offsets (numba then drops its negative-index checks).
    """
    N, C, H, W = x.shape
    TH, TW = tiles(H + 2 * PH - 2, W + 2 * PW - 2)
    LD = V.shape[2]  # row length of V: at least N*TH*TW (see the module docstring)
    S = np.uint64(C * LD)  # distance between the 16 planes of V
    Vf = V.reshape(-1)
    for blk in prange(_blocks(N * C)):
        xp = np.empty((2 * TH + 2, 2 * TW + 2), x.dtype)  # tiles may run one past the pad
        q = np.empty((4, 2 * TW + 2), x.dtype)
        for nc in _block_range(blk, N * C):
            n, c = nc // C, nc % C
            _padded_plane(xp, x[n, c], PH, PW)
            _input_plane(Vf, np.uint64(c * LD + n * TH * TW), S, xp, q, TH, TW)


@njit(cache=True)
def _output_adjoint_plane(dMf, o, S, gp, g, r, TH, TW):
    """``A dY A^T`` for every tile of one output-gradient plane ``gp``."""
    OH, OW = gp.shape
    for ty in range(TH):
        for a in range(2):  # the tile row's two output rows, zero past the edge
            h = 2 * ty + a
            for w in range(OW):
                g[a, w] = gp[h, w] if h < OH else 0
        for w in range(2 * TW):  # r = A g, A = [[1, 0], [1, 1], [1, -1], [0, -1]]
            r[0, w] = g[0, w]
            r[1, w] = g[0, w] + g[1, w]
            r[2, w] = g[0, w] - g[1, w]
            r[3, w] = -g[1, w]
        for i in range(4):  # dM = r A^T: row i of each tile into planes 4i .. 4i+3
            p = o + np.uint64(ty * TW) + np.uint64(4 * i) * S
            for tx in range(TW):
                u = p + np.uint64(tx)
                e0, e1 = r[i, 2 * tx], r[i, 2 * tx + 1]
                dMf[u] = e0
                dMf[u + S] = e0 + e1
                dMf[u + 2 * S] = e0 - e1
                dMf[u + 3 * S] = -e1


@njit(parallel=True, cache=True)
def output_transform_adjoint(dM, dy):
    """``dM[:, o, t] = A dY A^T`` for each tile's 2x2 output gradient ``dY`` (zero past the edge).

    Parallel over blocks of (n, o) planes of ``dy``: plane (n, o) writes only ``dM[:, o, t]``
    for the tiles of image n. Each of the 16 planes of ``dM`` gets one contiguous run per tile row.
    """
    N, O, OH, OW = dy.shape
    TH, TW = tiles(OH, OW)
    LD = dM.shape[2]
    S = np.uint64(O * LD)
    dMf = dM.reshape(-1)
    for blk in prange(_blocks(N * O)):
        g = np.zeros((2, 2 * TW), dy.dtype)  # stays zero past an odd edge
        r = np.empty((4, 2 * TW), dy.dtype)
        for no in _block_range(blk, N * O):
            n, o = no // O, no % O
            _output_adjoint_plane(dMf, np.uint64(o * LD + n * TH * TW), S, dy[n, o], g, r, TH,
                                  TW)
