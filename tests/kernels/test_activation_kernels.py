"""ReLU kernels against numpy."""
import numpy as np
import pytest

from minitorch.kernels import activation


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_clamps_negatives_and_keeps_nan(dtype):
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0, np.nan, -np.inf, np.inf], dtype)
    out = np.empty_like(x)
    activation.relu_forward(out, x)
    np.testing.assert_array_equal(out, np.array([0, 0, 0, 0.5, 3, np.nan, 0, np.inf], dtype))


def test_relu_forward_in_place():
    x = np.random.default_rng(0).standard_normal(1001).astype(np.float32)
    ref = np.maximum(x, 0)
    activation.relu_forward(x, x)
    np.testing.assert_array_equal(x, ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_passes_gradient_only_where_output_positive(dtype):
    rng = np.random.default_rng(1)
    y = np.maximum(rng.standard_normal(1000), 0).astype(dtype)
    g = rng.standard_normal(1000).astype(dtype)
    gx = np.empty_like(g)
    activation.relu_backward(gx, g, y)
    np.testing.assert_array_equal(gx, np.where(y > 0, g, 0))
