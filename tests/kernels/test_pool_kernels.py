"""Pooling kernels against plain-numpy loop references."""
import numpy as np
import pytest

from minitorch.kernels import pool

# (N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW): OH/OW given (ceil_mode is the caller's)
MAX_CASES = [
    (2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 4, 4),
    (1, 2, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 5, 4),
    (2, 2, 10, 9, 3, 2, 1, 2, 1, 1, 2, 3, 6, 4),
    (1, 1, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1, 3, 3),  # ceil_mode: last window hangs over the edge
]


def max_pool_reference(x, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N, C, OH, OW), x.dtype)
    idx = np.empty((N, C, OH, OW), np.int64)
    for oh in range(OH):
        for ow in range(OW):
            hs = [oh * SH - PH + k * DH for k in range(KH)]
            ws = [ow * SW - PW + k * DW for k in range(KW)]
            pos = [h * W + w for h in hs if 0 <= h < H for w in ws if 0 <= w < W]
            vals = x.reshape(N, C, H * W)[:, :, pos]
            arg = vals.argmax(axis=2)
            out[:, :, oh, ow] = vals.max(axis=2)
            idx[:, :, oh, ow] = np.asarray(pos)[arg]
    return out, idx


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool_forward_values_and_indices(case, dtype):
    N, C, H, W, *geom, OH, OW = case
    x = np.random.default_rng(0).standard_normal((N, C, H, W)).astype(dtype)
    out, idx = np.empty((N, C, OH, OW), dtype), np.empty((N, C, OH, OW), np.int64)
    pool.max_pool2d_forward(out, idx, x, *geom)
    ref_out, ref_idx = max_pool_reference(x, *geom, OH, OW)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool_ties_pick_the_first_tap_in_row_major_order(case):
    # post-ReLU activations are full of equal zeros: the gradient must go where PyTorch sends it
    N, C, H, W, *geom, OH, OW = case
    x = np.random.default_rng(5).integers(0, 3, (N, C, H, W)).astype(np.float32)
    out, idx = np.empty((N, C, OH, OW), np.float32), np.empty((N, C, OH, OW), np.int64)
    pool.max_pool2d_forward(out, idx, x, *geom)
    ref_out, ref_idx = max_pool_reference(x, *geom, OH, OW)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)


def test_max_pool_propagates_nan():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    x[0, 0, 0, 3] = np.nan
    x[0, 0, 1, 2] = np.nan  # two NaNs in one window: the last one (row-major) wins
    out, idx = np.empty((1, 1, 2, 2), np.float32), np.empty((1, 1, 2, 2), np.int64)
    pool.max_pool2d_forward(out, idx, x, 2, 2, 2, 2, 0, 0, 1, 1)
    assert np.isnan(out[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 4
    assert np.isnan(out[0, 0, 0, 1]) and idx[0, 0, 0, 1] == 6
    assert out[0, 0, 1, 1] == 15 and idx[0, 0, 1, 1] == 15


# beyond MAX_CASES: ResNet's stem pool, stride > kernel, windows all overhanging (no full-width
# column), a 1x1 kernel
VALUES_CASES = MAX_CASES + [
    (2, 3, 12, 12, 3, 3, 2, 2, 1, 1, 1, 1, 6, 6),
    (1, 2, 9, 9, 2, 2, 3, 3, 0, 0, 1, 1, 3, 3),
    (1, 2, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 3, 2),
    (2, 2, 5, 4, 1, 1, 2, 1, 0, 0, 1, 1, 3, 4),
]


def _indexed(x, geom, OH, OW):
    out = np.empty(x.shape[:2] + (OH, OW), x.dtype)
    pool.max_pool2d_forward(out, np.empty(out.shape, np.int64), x, *geom)
    return out


def _values(x, geom, OH, OW):
    out = np.full(x.shape[:2] + (OH, OW), np.inf, x.dtype)
    pool.max_pool2d_forward_values(out, x, *geom)
    return out


def _bits(a):
    return a.view(np.int32 if a.dtype == np.float32 else np.int64)


@pytest.mark.parametrize("case", VALUES_CASES)
def test_max_pool_indices_on_full_width_rows_pick_the_first_tie_in_row_major_order(case):
    # the full-width windows go by column maxima first: a tie between an earlier row in a later
    # column and a later row in an earlier column must still go to the earlier row
    N, C, H, W, *geom, OH, OW = case
    x = np.random.default_rng(8).integers(0, 2, (N, C, H, W)).astype(np.float32)
    out, idx = np.empty((N, C, OH, OW), np.float32), np.empty((N, C, OH, OW), np.int64)
    pool.max_pool2d_forward(out, idx, x, *geom)
    ref_out, ref_idx = max_pool_reference(x, *geom, OH, OW)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    y = np.zeros((1, 1, 6, 9), np.float32)
    y[0, 0, 1, 3] = y[0, 0, 0, 4] = 1.0  # window (rows 0-2, columns 3-5): (0, 4) comes first
    o, i = np.empty((1, 1, 2, 4), np.float32), np.empty((1, 1, 2, 4), np.int64)
    pool.max_pool2d_forward(o, i, y, 3, 3, 2, 2, 0, 0, 1, 1)
    assert o[0, 0, 0, 1] == 1.0 and i[0, 0, 0, 1] == 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", VALUES_CASES)
def test_max_pool_values_kernel_is_bitwise_the_indexed_kernel(case, dtype):
    N, C, H, W, *geom, OH, OW = case
    rng = np.random.default_rng(6)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    np.testing.assert_array_equal(_bits(_values(x, geom, OH, OW)), _bits(_indexed(x, geom, OH, OW)))
    np.testing.assert_array_equal(_values(x, geom, OH, OW), max_pool_reference(x, *geom, OH, OW)[0])
    # post-ReLU data: ties between +0.0 and -0.0 must resolve to the same sign as the indexed path
    z = np.where(rng.random(x.shape) < 0.5, dtype(0.0), dtype(-0.0)) * (x > 1)
    np.testing.assert_array_equal(_bits(_values(z, geom, OH, OW)), _bits(_indexed(z, geom, OH, OW)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", VALUES_CASES)
def test_max_pool_values_kernel_propagates_nan_as_the_indexed_kernel(case, dtype):
    N, C, H, W, *geom, OH, OW = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[0, 0] = 1.0  # a NaN-free plane next to NaN planes: both paths in one call
    x[-1, -1, 0, 0] = -np.nan  # another NaN payload: the window's last NaN is the one kept
    values, indexed = _values(x, geom, OH, OW), _indexed(x, geom, OH, OW)
    assert np.isnan(indexed).any()
    np.testing.assert_array_equal(_bits(values), _bits(indexed))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_backward_scatters_to_argmax_and_sums_overlaps(dtype):
    N, C, H, W, *geom, OH, OW = MAX_CASES[2]  # stride 1 rows: windows overlap
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    _, idx = max_pool_reference(x, *geom, OH, OW)
    g = rng.standard_normal((N, C, OH, OW)).astype(dtype)
    gx = np.full_like(x, np.nan)
    pool.max_pool2d_backward(gx, g, idx)
    ref = np.zeros((N, C, H * W))
    for n in range(N):
        for c in range(C):
            np.add.at(ref[n, c], idx[n, c].ravel(), g[n, c].ravel())
    np.testing.assert_allclose(gx.reshape(N, C, -1), ref, rtol=1e-6)


def avg_pool_reference(x, KH, KW, SH, SW, PH, PW, include_pad, divisor, OH, OW):
    N, C, H, W = x.shape
    out = np.empty((N, C, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            h0, w0 = oh * SH - PH, ow * SW - PW
            h1, w1 = min(h0 + KH, H + PH), min(w0 + KW, W + PW)
            padded = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
            count = divisor or (padded if include_pad else (h1 - h0) * (w1 - w0))
            out[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / count
    return out


AVG_CASES = [  # (N, C, H, W, KH, KW, SH, SW, PH, PW, include_pad, divisor, OH, OW)
    (2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 0, 4, 4),
    (1, 2, 7, 6, 3, 3, 2, 2, 1, 1, 1, 0, 4, 3),
    (1, 2, 7, 6, 3, 3, 2, 2, 1, 1, 0, 0, 4, 3),
    (2, 1, 5, 5, 3, 2, 2, 2, 1, 0, 1, 5, 3, 3),
    (1, 1, 5, 5, 2, 2, 2, 2, 0, 0, 0, 0, 3, 3),  # ceil_mode overhang
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool_forward_and_backward(case, dtype):
    N, C, H, W, *geom, OH, OW = case
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    out = np.empty((N, C, OH, OW), dtype)
    pool.avg_pool2d_forward(out, x, *geom)
    t = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, avg_pool_reference(x, *geom, OH, OW), rtol=t, atol=t)
    # backward is the adjoint of forward: <A x, g> == <x, A^T g>
    g = rng.standard_normal((N, C, OH, OW)).astype(dtype)
    gx = np.full_like(x, np.nan)
    pool.avg_pool2d_backward(gx, g, *geom)
    assert np.isclose(np.sum(out * g, dtype=np.float64), np.sum(x * gx, dtype=np.float64),
                      rtol=t * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_hw,out_hw", [((7, 7), (1, 1)), ((10, 7), (3, 4)), ((5, 5), (5, 5)),
                                          ((4, 6), (6, 4))])
def test_adaptive_avg_pool_forward_and_backward(in_hw, out_hw, dtype):
    (H, W), (OH, OW) = in_hw, out_hw
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, H, W)).astype(dtype)
    out = np.empty((2, 3, OH, OW), dtype)
    pool.adaptive_avg_pool2d_forward(out, x)
    ref = np.empty((2, 3, OH, OW))
    for i in range(OH):
        for j in range(OW):
            h0, h1 = (i * H) // OH, -((-(i + 1) * H) // OH)
            w0, w1 = (j * W) // OW, -((-(j + 1) * W) // OW)
            ref[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    t = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref, rtol=t, atol=t)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = np.full_like(x, np.nan)
    pool.adaptive_avg_pool2d_backward(gx, g)
    assert np.isclose(np.sum(out * g, dtype=np.float64), np.sum(x * gx, dtype=np.float64),
                      rtol=t * 10)
