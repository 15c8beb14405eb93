"""Gathering tiles channel by channel for the Winograd transforms that read an image and
write planes (``winograd.input_transform``, ``winograd.output_transform_adjoint``,
``input_transform43`` here, ``winograd43_grad.output_transform_adjoint43``).

Those kernels once worked one (n, c) image plane at a time, and each of the K planes they write
got a run of only TT = TH * TW columns per image plane (4 at 8x8 maps): short loops and per-plane
overhead made them 3-10x slower than the arithmetic. But for a fixed channel c the columns
``n * TT + t`` of all images are one contiguous run of a plane row. So the work items here are
(channel, chunk) pairs, a chunk being a few whole images or, at large maps, a band of tile rows
of one image (``chunk_plan``): its padded images are copied into a scratch ``Xp``, element
(a, b) of every tile of the chunk is gathered into one run of ``G`` (``G[k * L + col] =
Xp[off[k] + I[col]]``, k = m*a + b, ``I`` the tiles' corners), and the transform's arithmetic
runs over runs of all L columns of the chunk (vectorised), each of the K planes getting one run.
"""
import numpy as np
from numba import njit, prange

from .twin import serial_twin

__all__ = ["chunk_plan", "chunk_bounds", "item_blocks", "block_items", "tile_corners",
           "element_offsets", "padded_images", "gather", "input_transform43",
           "input_transform43_serial"]

# Tile columns per chunk (fewer when one image has fewer): measured on the Xeon (one thread,
# the four kernels at ResNet-18's shapes, 56x56 to 4x4), 128, 256 and 512 are within ~10% of
# each other, none best everywhere; 256 keeps F(4x4, 3x3)'s 36-run G (36 KiB in float32) in L1.
_COLUMNS = 256
# Work items per parallel iteration: the scratch is allocated (and its border zeroed) per block.
_ITEMS = 4


@njit(cache=True)
def chunk_plan(N, TH, TW):
    """``(g, TB, chunks)``: the chunks are ``g`` whole images (``TB = TH``) when an image has at
    most ``_COLUMNS`` tiles, else bands of ``TB`` tile rows of one image (``g = 1``), so that
    the scratch stays small at any map size (a whole 224x224 image would make F(2x2, 3x3)'s
    ``G`` 0.8 MB a thread)."""
    TT = TH * TW
    if TT <= _COLUMNS:
        g = min(N, _COLUMNS // TT)
        return g, TH, (N + g - 1) // g
    TB = max(1, _COLUMNS // TW)
    return 1, TB, N * ((TH + TB - 1) // TB)


@njit(cache=True)
def chunk_bounds(ch, N, TH, g, TB):
    """``(n0, n1, ty0, ty1)``: chunk ``ch`` is tile rows ``ty0 .. ty1 - 1`` of images
    ``n0 .. n1 - 1``; its columns are ``n0 * TT + ty0 * TW`` on, ``(n1 - n0) * (ty1 - ty0) * TW``
    of them."""
    bands = (TH + TB - 1) // TB
    n0, ty0 = (ch // bands) * g, (ch % bands) * TB
    return n0, min(N, n0 + g), ty0, min(TH, ty0 + TB)


@njit(cache=True)
def item_blocks(items):
    """How many parallel iterations cover ``items`` work items, ``_ITEMS`` each."""
    return (items + _ITEMS - 1) // _ITEMS


@njit(cache=True)
def block_items(blk, items):
    return range(blk * _ITEMS, min(items, (blk + 1) * _ITEMS))


@njit(cache=True)
def tile_corners(g, TB, TW, R, Wp, s):
    """``I[n * TB * TW + ty * TW + tx]``: where tile (ty, tx) of a chunk's image n starts in
    ``Xp`` (images ``R * Wp`` apart, tiles ``s`` apart)."""
    I = np.empty(g * TB * TW, np.uint64)
    for n in range(g):
        for ty in range(TB):
            for tx in range(TW):
                I[(n * TB + ty) * TW + tx] = (n * R + s * ty) * Wp + s * tx
    return I


@njit(cache=True)
def element_offsets(m, Wp):
    """``off[m * a + b]``: element (a, b) of a tile, from the tile's corner in ``Xp``."""
    off = np.empty(m * m, np.uint64)
    for a in range(m):
        for b in range(m):
            off[m * a + b] = a * Wp + b
    return off


@njit(cache=True)
def padded_images(Xp, xf, n0, n1, c, C, H, W, PH, PW, r0, R, Wp):
    """Rows ``r0 .. r0 + R - 1`` of the zero-padded channel c of images ``n0 .. n1 - 1``
    (``xf``: the flat NCHW input; input row h is padded row ``PH + h``, column w at ``PW + w``)
    into ``Xp``, one ``R x Wp`` block an image. Rows outside the input are zeroed here; the
    columns outside it once, when ``Xp`` is allocated: no chunk writes them."""
    for n in range(n0, n1):
        for r in range(R):
            d = np.uint64(((n - n0) * R + r) * Wp + PW)
            h = r0 + r - PH
            if 0 <= h < H:
                s = np.uint64(((n * C + c) * H + h) * W)
                for w in range(W):
                    Xp[d + np.uint64(w)] = xf[s + np.uint64(w)]
            else:
                for w in range(W):
                    Xp[d + np.uint64(w)] = 0


@njit(cache=True)
def gather(G, L, Xp, I, off):
    """``G[k * L + col] = Xp[off[k] + I[col]]`` for col < L: element k of every tile, one run
    per element."""
    for k in range(off.size):
        o, d = off[k], np.uint64(k * L)
        for col in range(L):
            G[d + np.uint64(col)] = Xp[o + I[col]]


@njit(inline="always", cache=True)
def _bt(i, d0, d1, d2, d3, d4, d5, k0, k1, k2, k3):
    """Row ``i`` of F(4x4, 3x3)'s ``B^T`` times (d0 .. d5); ``k0 .. k3`` are 0.5, 1.5, 2 and
    2.5 in the arrays' dtype. Inlined with a constant ``i``, so the branches fold away."""
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
def _bt_rows(Q, G, L, k0, k1, k2, k3, i):
    """``Q[b * L + t]`` = row ``i`` of ``B^T d`` for column b of every tile t (``G``: 36 runs)."""
    Lu = np.uint64(L)
    for b in range(6):
        q = np.uint64(b) * Lu
        c0 = q
        c1, c2, c3 = c0 + np.uint64(6) * Lu, c0 + np.uint64(12) * Lu, c0 + np.uint64(18) * Lu
        c4, c5 = c0 + np.uint64(24) * Lu, c0 + np.uint64(30) * Lu
        for t0 in range(L):
            t = np.uint64(t0)
            Q[q + t] = _bt(i, G[c0 + t], G[c1 + t], G[c2 + t], G[c3 + t], G[c4 + t], G[c5 + t],
                           k0, k1, k2, k3)


@njit(inline="always", cache=True)
def _times_B(Vf, p, Q, L, k0, k1, k2, k3, j):
    """One plane's run of ``V``: column ``j`` of ``q B`` for every tile. One store stream per
    loop: more kept LLVM from vectorising."""
    T1 = np.uint64(L)
    T2, T3, T4, T5 = T1 + T1, T1 + T1 + T1, np.uint64(4 * L), np.uint64(5 * L)
    for t0 in range(L):
        t = np.uint64(t0)
        Vf[p + t] = _bt(j, Q[t], Q[T1 + t], Q[T2 + t], Q[T3 + t], Q[T4 + t], Q[T5 + t], k0, k1,
                        k2, k3)


@njit(cache=True)
def _bt_rows_for(Q, G, L, k0, k1, k2, k3, i):
    """``_bt_rows`` with ``i`` a constant in each branch: the branch is taken once a call, not
    once an element (which would not vectorise)."""
    if i == 0:
        _bt_rows(Q, G, L, k0, k1, k2, k3, 0)
    elif i == 1:
        _bt_rows(Q, G, L, k0, k1, k2, k3, 1)
    elif i == 2:
        _bt_rows(Q, G, L, k0, k1, k2, k3, 2)
    elif i == 3:
        _bt_rows(Q, G, L, k0, k1, k2, k3, 3)
    elif i == 4:
        _bt_rows(Q, G, L, k0, k1, k2, k3, 4)
    else:
        _bt_rows(Q, G, L, k0, k1, k2, k3, 5)


@njit(cache=True)
def _transform_row(Vf, p, S, Q, G, L, k0, k1, k2, k3, i):
    """Planes ``6i .. 6i + 5`` of ``V`` for one chunk (``p``: plane 6i's run). Called with a
    variable ``i``, not inlined six times: 12 loops to compile instead of 72 (the kernel took
    19 s to compile, now 8)."""
    _bt_rows_for(Q, G, L, k0, k1, k2, k3, i)
    _times_B(Vf, p, Q, L, k0, k1, k2, k3, 0)
    _times_B(Vf, p + S, Q, L, k0, k1, k2, k3, 1)
    _times_B(Vf, p + np.uint64(2) * S, Q, L, k0, k1, k2, k3, 2)
    _times_B(Vf, p + np.uint64(3) * S, Q, L, k0, k1, k2, k3, 3)
    _times_B(Vf, p + np.uint64(4) * S, Q, L, k0, k1, k2, k3, 4)
    _times_B(Vf, p + np.uint64(5) * S, Q, L, k0, k1, k2, k3, 5)


@njit(parallel=True, cache=True)
def input_transform43(V, x, PH, PW):
    """F(4x4, 3x3): ``V[k, c, t] = (B^T d B)[k]`` for every 6x6 input tile ``d`` of ``x``
    (N, C, H, W); layout and tiles as in ``winograd43.py``.

    Parallel over blocks of (channel, chunk of images) items: item (c, chunk) writes only
    ``V[:, c, t]`` for the chunk's tiles. Per item, the module docstring's gather, then ``B^T d``
    and ``(B^T d) B`` over all the chunk's tiles at once, each of the 36 planes of ``V`` getting
    one contiguous run. The same float operations in the same order as the plane-at-a-time
    kernel before it (bitwise its result; one thread, 1.7x less time at 56x56, 2-10x from 32x32
    to 8x8 maps).
    """
    N, C, H, W = x.shape
    TH, TW = (H + 2 * PH - 2 + 3) // 4, (W + 2 * PW - 2 + 3) // 4
    TT = TH * TW
    g, TB, chunks = chunk_plan(N, TH, TW)
    R, Wp = 4 * TB + 2, 4 * TW + 2  # tiles may run past the padding: zero there too
    I = tile_corners(g, TB, TW, R, Wp, 4)
    off = element_offsets(6, Wp)
    LD = V.shape[2]
    S = np.uint64(C * LD)
    Vf, xf = V.reshape(-1), x.reshape(-1)
    items = C * chunks
    for blk in prange(item_blocks(items)):
        Xp = np.zeros(g * R * Wp, x.dtype)
        G = np.empty(36 * g * TB * TW, x.dtype)
        Q = np.empty(6 * g * TB * TW, x.dtype)
        k = np.empty(4, x.dtype)  # the factors in x's dtype (a float literal is float64)
        k[0], k[1], k[2], k[3] = 0.5, 1.5, 2.0, 2.5
        for it in block_items(blk, items):
            c = it // chunks
            n0, n1, ty0, ty1 = chunk_bounds(it % chunks, N, TH, g, TB)
            L = (n1 - n0) * (ty1 - ty0) * TW
            padded_images(Xp, xf, n0, n1, c, C, H, W, PH, PW, 4 * ty0, R, Wp)
            gather(G, L, Xp, I, off)
            o = np.uint64(c * LD + n0 * TT + ty0 * TW)
            for i in range(6):  # planes 6i .. 6i + 5
                _transform_row(Vf, o + np.uint64(6 * i) * S, S, Q, G, L, k[0], k[1], k[2], k[3],
                               i)


# one thread's slice of a pipelined convolution (ops.conv_winograd.forward_pipelined)
input_transform43_serial = serial_twin(input_transform43)
