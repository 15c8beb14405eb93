"""The planes -> image Winograd kernels (kernels/winograd_scatter.py: F(2x2, 3x3)'s
output_transform and input_transform_adjoint, F(4x4, 3x3)'s output_transform43) against the
per-plane kernels they replaced, kept below: bitwise equal results, epilogue included, over odd
shapes, padding 0..2, one image, one tile, padded rows, several (uneven) groups of images, and
signed zeros, infinities and NaN in the input, in float32: the library never runs them on float64
(``ops.conv_winograd.use_winograd``). (The kernels' agreement with a direct convolution and their
adjoint identities, float64 included, are tested in test_winograd*_kernels.py.)"""
import numpy as np
import pytest
from numba import njit

from minitorch.kernels import winograd as WG
from minitorch.kernels import winograd43 as W4
from minitorch.kernels.activation import relu_value
from minitorch.kernels.winograd import _block_range, _blocks, tiles
from minitorch.kernels.winograd43 import _factors, tiles43

# ---- the per-plane kernels as they were (serial: one iteration per plane either way) ----


@njit(cache=True)
def _output_row_old(row, q, TW, OW):
    for tx in range(OW // 2):
        row[2 * tx] = q[0, tx] + q[1, tx] + q[2, tx]
        row[2 * tx + 1] = q[1, tx] - q[2, tx] - q[3, tx]
    if OW % 2:
        tx = TW - 1
        row[2 * tx] = q[0, tx] + q[1, tx] + q[2, tx]


@njit(cache=True)
def _output_plane_old(yp, Mf, o, S, q, TH, TW):
    OH, OW = yp.shape
    for ty in range(TH):
        base = o + np.uint64(ty * TW)
        for j in range(4):  # column j of A^T m, from four contiguous runs of M
            p0 = base + np.uint64(j) * S
            p1 = p0 + np.uint64(4) * S
            p2 = p1 + np.uint64(4) * S
            p3 = p2 + np.uint64(4) * S
            for tx in range(TW):
                u = np.uint64(tx)
                m1, m2 = Mf[p1 + u], Mf[p2 + u]
                q[0, j, tx] = Mf[p0 + u] + m1 + m2
                q[1, j, tx] = m1 - m2 - Mf[p3 + u]
        for a in range(2):
            if 2 * ty + a < OH:
                _output_row_old(yp[2 * ty + a], q[a], TW, OW)


@njit(cache=True)
def _epilogue_plane_old(yp, bias, res, n, o, relu, zero):
    has_b, has_r = bias.size > 0, res.size > 0
    OH, OW = yp.shape
    for h in range(OH):
        for w in range(OW):
            v = yp[h, w]
            if has_b:
                v += bias[o]
            if has_r:
                v += res[n, o, h, w]
            yp[h, w] = relu_value(v, zero) if relu else v


@njit(cache=True)
def output_transform_old(y, M, bias, res, relu):
    N, O, OH, OW = y.shape
    TH, TW = tiles(OH, OW)
    LD = M.shape[2]
    S = np.uint64(O * LD)
    Mf = M.reshape(-1)
    fused = bias.size > 0 or res.size > 0 or relu
    zero = np.zeros(1, y.dtype)[0]
    for blk in range(_blocks(N * O)):
        q = np.empty((2, 4, TW), y.dtype)  # the two rows of A^T m, per column j, per tile
        for no in _block_range(blk, N * O):
            n, o = no // O, no % O
            _output_plane_old(y[n, o], Mf, np.uint64(o * LD + n * TH * TW), S, q, TH, TW)
            if fused:
                _epilogue_plane_old(y[n, o], bias, res, n, o, relu, zero)


@njit(cache=True)
def input_transform_adjoint_old(dx, dV, PH, PW):
    N, C, H, W = dx.shape
    TH, TW = tiles(H + 2 * PH - 2, W + 2 * PW - 2)
    LD = dV.shape[2]
    S = np.uint64(C * LD)
    dVf = dV.reshape(-1)
    L = 2 * TW + 2
    Lu = np.uint64(L)
    for blk in range(_blocks(N * C)):
        acc = np.empty((2 * TH + 2) * L, dx.dtype)
        R = np.empty(4 * L, dx.dtype)
        for nc in _block_range(blk, N * C):
            n, c = nc // C, nc % C
            for i in range(acc.size):
                acc[i] = 0
            for ty in range(TH):
                o0 = np.uint64(c * LD + n * TH * TW + ty * TW)
                for i in range(4):  # row i of dV B^T, overlapping tiles summed
                    for w in range(L):
                        R[i * L + w] = 0
                    oi = o0 + np.uint64(4 * i) * S
                    for tx in range(TW):
                        u = oi + np.uint64(tx)
                        v0, v1, v2, v3 = dVf[u], dVf[u + S], dVf[u + S + S], dVf[u + S + S + S]
                        w = np.uint64(i * L + 2 * tx)
                        R[w] += v0
                        R[w + 1] += v1 - v2 + v3
                        R[w + 2] += v1 + v2 - v0
                        R[w + 3] -= v3
                h = np.uint64(2 * ty * L)
                for k in range(L):  # rows of B R, onto the tile row's four plane rows
                    w = np.uint64(k)
                    acc[h + w] += R[w]
                    acc[h + Lu + w] += R[Lu + w] - R[2 * Lu + w] + R[3 * Lu + w]
                    acc[h + 2 * Lu + w] += R[Lu + w] + R[2 * Lu + w] - R[w]
                    acc[h + 3 * Lu + w] -= R[3 * Lu + w]
            for hh in range(H):
                for ww in range(W):
                    dx[n, c, hh, ww] = acc[(PH + hh) * L + PW + ww]


@njit(inline="always", cache=True)
def _at_old(a, m0, m1, m2, m3, m4, m5, k0, k1, k2, k3, k4, k5):
    s12, d12 = m1 + m2, m1 - m2
    if a == 0:
        return m0 + s12 + (m3 + m4)
    if a == 1:
        return d12 + k0 * m3 - k3 * m4
    if a == 2:
        return s12 + k1 * m3 + k4 * m4
    return d12 + k2 * m3 - k5 * m4 + m5


@njit(inline="always", cache=True)
def _at_rows_old(Q, Mf, p, S, TT, k0, k1, k2, k3, k4, k5, a):
    S6 = np.uint64(6) * S
    for j in range(6):
        q = np.uint64(j * TT)
        p0 = p + np.uint64(j) * S
        p1, p2, p3 = p0 + S6, p0 + S6 + S6, p0 + np.uint64(3) * S6
        p4, p5 = p0 + np.uint64(4) * S6, p0 + np.uint64(5) * S6
        for t0 in range(TT):
            t = np.uint64(t0)
            Q[q + t] = _at_old(a, Mf[p0 + t], Mf[p1 + t], Mf[p2 + t], Mf[p3 + t], Mf[p4 + t],
                           Mf[p5 + t], k0, k1, k2, k3, k4, k5)


@njit(inline="always", cache=True)
def _times_A_old(Y, Q, TT, b, k0, k1, k2, k3, k4, k5, c):
    T1 = np.uint64(TT)
    T2, T3, T4, T5 = T1 + T1, T1 + T1 + T1, np.uint64(4 * TT), np.uint64(5 * TT)
    y = np.uint64(c * TT)
    for t0 in range(TT):
        t = np.uint64(t0)
        Y[y + t] = _at_old(c, Q[t], Q[T1 + t], Q[T2 + t], Q[T3 + t], Q[T4 + t], Q[T5 + t], k0, k1,
                       k2, k3, k4, k5) + b


@njit(cache=True)
def _output_rows43_old(yf, rf, yo, OH, OW, Y, a, TH, TW, has_r, relu, zero):
    TT = TH * TW
    for ty in range(TH):
        h = 4 * ty + a
        if h >= OH:
            break
        t0 = ty * TW
        r = yo + h * OW
        for tx in range(TW):
            for c in range(4):
                w = 4 * tx + c
                if w >= OW:  # past the output's edge: only in the last tile
                    break
                v = Y[np.uint64(c * TT + t0 + tx)]
                u = np.uint64(r + w)
                if has_r:
                    v += rf[u]
                yf[u] = relu_value(v, zero) if relu else v


@njit(cache=True)
def _output_plane43_old(yf, rf, yo, OH, OW, Mf, p, S, Q, Y, TH, TW, bias_o, has_r, relu, zero, k):
    k0, k1, k2, k3, k4, k5 = k[0], k[1], k[2], k[3], k[4], k[5]
    TT = TH * TW
    for a in range(4):
        if a == 0:
            _at_rows_old(Q, Mf, p, S, TT, k0, k1, k2, k3, k4, k5, 0)
        elif a == 1:
            _at_rows_old(Q, Mf, p, S, TT, k0, k1, k2, k3, k4, k5, 1)
        elif a == 2:
            _at_rows_old(Q, Mf, p, S, TT, k0, k1, k2, k3, k4, k5, 2)
        else:
            _at_rows_old(Q, Mf, p, S, TT, k0, k1, k2, k3, k4, k5, 3)
        _times_A_old(Y, Q, TT, bias_o, k0, k1, k2, k3, k4, k5, 0)
        _times_A_old(Y, Q, TT, bias_o, k0, k1, k2, k3, k4, k5, 1)
        _times_A_old(Y, Q, TT, bias_o, k0, k1, k2, k3, k4, k5, 2)
        _times_A_old(Y, Q, TT, bias_o, k0, k1, k2, k3, k4, k5, 3)
        _output_rows43_old(yf, rf, yo, OH, OW, Y, a, TH, TW, has_r, relu, zero)


@njit(cache=True)
def output_transform43_old(y, M, bias, res, relu):
    N, O, OH, OW = y.shape
    TH, TW = tiles43(OH, OW)
    TT = TH * TW
    LD = M.shape[2]
    S = np.uint64(O * LD)
    Mf, yf, rf = M.reshape(-1), y.reshape(-1), res.reshape(-1)
    has_r = res.size > 0
    zero = np.zeros(1, y.dtype)[0]
    for blk in range(_blocks(N * O)):
        Q = np.empty(6 * TT, y.dtype)
        Y = np.empty(4 * TT, y.dtype)
        k = _factors(y.dtype, 0.5, 0.25, 0.125, 2.0, 4.0, 8.0)
        for no in _block_range(blk, N * O):
            n, o = no // O, no % O
            _output_plane43_old(yf, rf, no * OH * OW, OH, OW, Mf, np.uint64(o * LD + n * TT), S, Q, Y,
                            TH, TW, bias[o], has_r, relu, zero, k)


# ---- the comparisons ----

def _bits(a):
    """``a``'s bit patterns, NaN's payload masked (the order of a NaN's operands may differ)."""
    u = a.view(np.uint32 if a.dtype == np.float32 else np.uint64).copy()
    u[np.isnan(a)] = 0
    return u


def assert_bitwise(new, old):
    np.testing.assert_array_equal(np.isnan(new), np.isnan(old))
    np.testing.assert_array_equal(_bits(new), _bits(old))


def planes(rng, K, rows, T, pad, dtype, special):
    """(K, rows, T + pad) values, the padding NaN (never read). ``special`` "inf": some zeros
    of both signs, infinities and NaN among them; "zeros": mostly zeros of both signs, whose
    sums' signs depend on the order of the operations and on every ``0 + x``."""
    a = np.full((K, rows, T + pad), np.nan, dtype)
    v = rng.standard_normal((K, rows, T)).astype(dtype)
    if special == "zeros":
        v = np.where(rng.random(v.shape) < 0.5, -0.0, 0.0).astype(dtype)
        v[rng.random(v.shape) < 0.05] = 1.0
    elif special:
        pick = rng.random(v.shape)
        v[pick < 0.1] = 0.0
        v[(pick >= 0.1) & (pick < 0.2)] = -0.0
        v[(pick >= 0.2) & (pick < 0.21)] = np.inf
        v[(pick >= 0.21) & (pick < 0.22)] = -np.inf
        v[(pick >= 0.22) & (pick < 0.23)] = np.nan
    a[:, :, :T] = v
    return a


# (N, O, OH, OW, pad columns): odd and non-square outputs, one image, one tile (TT = 1),
# LD > T, and N * TT past the kernels' run of 512 columns (several groups, the last smaller)
OUT_SHAPES = [(2, 3, 4, 4, 0), (1, 2, 7, 5, 3), (3, 1, 1, 1, 0), (1, 1, 2, 2, 5),
              (5, 4, 9, 6, 16), (7, 3, 40, 38, 0), (65, 2, 4, 4, 1), (40, 3, 16, 15, 2)]


@pytest.mark.parametrize("shape", OUT_SHAPES)
@pytest.mark.parametrize("epilogue", ["none", "bias", "res", "all"])
@pytest.mark.parametrize("dtype", [np.float32])
@pytest.mark.parametrize("planes_", [16, 36])
@pytest.mark.parametrize("special", [None, "inf", "zeros"])
def test_output_transforms_are_bitwise_the_per_plane_kernels(shape, epilogue, dtype, planes_,
                                                             special):
    N, O, OH, OW, pad = shape
    rng = np.random.default_rng(N * 1000 + OH * 10 + OW)
    TH, TW = (tiles if planes_ == 16 else tiles43)(OH, OW)
    M = planes(rng, planes_, O, N * TH * TW, pad, dtype, special)
    bias = rng.standard_normal(O).astype(dtype)
    res = rng.standard_normal((N, O, OH, OW)).astype(dtype)
    res.reshape(-1)[::3] = -0.0  # with zero sums: the residual's sign decides
    use_b, use_r = epilogue in ("bias", "all"), epilogue in ("res", "all")
    relu = epilogue == "all"
    res = res if use_r else np.zeros((0, 0, 0, 0), dtype)
    if planes_ == 16:
        bias = bias if use_b else np.zeros(0, dtype)
        new, old = WG.output_transform, output_transform_old
    else:
        bias = bias if use_b else np.zeros(O, dtype)
        new, old = W4.output_transform43, output_transform43_old
    y_new = np.full((N, O, OH, OW), np.nan, dtype)  # every element must be written
    y_old = np.full((N, O, OH, OW), np.nan, dtype)
    new(y_new, M, bias, res, relu)
    old(y_old, M, bias, res, relu)
    assert_bitwise(y_new, y_old)


# (N, C, H, W, PH, PW, pad columns): padding 0..2, odd and non-square, one image, one tile,
# several groups of images
ADJ_SHAPES = [(2, 3, 4, 4, 1, 1, 0), (1, 2, 7, 5, 1, 1, 3), (3, 1, 3, 3, 0, 0, 0),
              (1, 2, 1, 1, 1, 1, 4), (2, 2, 4, 5, 2, 1, 1), (1, 1, 6, 9, 0, 2, 0),
              (65, 2, 4, 4, 1, 1, 2), (6, 3, 30, 27, 1, 1, 0), (40, 2, 8, 7, 1, 0, 1)]


@pytest.mark.parametrize("shape", ADJ_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32])
@pytest.mark.parametrize("special", [None, "inf", "zeros"])
def test_input_transform_adjoint_is_bitwise_the_per_plane_kernel(shape, dtype, special):
    N, C, H, W, PH, PW, pad = shape
    rng = np.random.default_rng(N * 1000 + H * 10 + W)
    TH, TW = tiles(H + 2 * PH - 2, W + 2 * PW - 2)
    dV = planes(rng, 16, C, N * TH * TW, pad, dtype, special)
    dx_new = np.full((N, C, H, W), np.nan, dtype)
    dx_old = np.full((N, C, H, W), np.nan, dtype)
    WG.input_transform_adjoint(dx_new, dV, PH, PW)
    input_transform_adjoint_old(dx_old, dV, PH, PW)
    assert_bitwise(dx_new, dx_old)
