"""kernels.batch1: BatchNorm, residual add and ReLU in one pass, bitwise the separate kernels."""
import numpy as np
import pytest

from minitorch.kernels import activation, batch1, norm


@pytest.mark.parametrize("has_res,relu", [(False, False), (True, False), (False, True),
                                          (True, True)])
def test_equals_batch_norm_apply_then_add_then_relu_bitwise(has_res, relu):
    rng = np.random.default_rng(0)
    C, P = 7, 33
    x = rng.standard_normal((1, C, P)).astype(np.float32) * 3
    x[0, 2, 5] = np.nan  # NaN passes the ReLU (PyTorch's rule)
    mean, weight, bias = (rng.standard_normal(C).astype(np.float32) for _ in range(3))
    invstd = rng.uniform(0.2, 3.0, C).astype(np.float32)
    res = rng.standard_normal((C, P)).astype(np.float32)
    expected = np.empty_like(x)
    norm.batch_norm_apply(expected, x, mean, invstd, weight, bias, 0)
    expected = expected.reshape(C, P)
    if has_res:
        expected = expected + res
    if relu:
        flat = expected.reshape(-1).copy()
        activation.relu_forward(flat, flat)
        expected = flat.reshape(C, P)
    y = x.reshape(C, P).copy()
    batch1.bn_residual_relu_(y, mean, invstd, weight, bias, res if has_res else res[:0],
                             has_res, relu)
    np.testing.assert_array_equal(y, expected)
    if relu:
        assert np.isnan(y[2, 5]) and (np.nan_to_num(y) >= 0).all()


def test_small_outputs_take_the_serial_twin_with_the_same_bits():
    # at batch 1 layer1-4's outputs (25K-200K elements) are below the threshold, the stem's
    # 64x112x112 above it
    assert 512 * 7 * 7 * 4 < batch1.SERIAL_BELOW < 64 * 112 * 112
    rng = np.random.default_rng(1)
    C, P = 9, 41
    y = rng.standard_normal((C, P)).astype(np.float32)
    res = rng.standard_normal((C, P)).astype(np.float32)
    mean, weight, bias = (rng.standard_normal(C).astype(np.float32) for _ in range(3))
    invstd = rng.uniform(0.2, 3.0, C).astype(np.float32)
    parallel, serial = y.copy(), y.copy()
    batch1.bn_residual_relu_(parallel, mean, invstd, weight, bias, res, True, True)
    batch1.bn_residual_relu_serial_(serial, mean, invstd, weight, bias, res, True, True)
    np.testing.assert_array_equal(serial, parallel)
    assert not np.array_equal(serial, y)
