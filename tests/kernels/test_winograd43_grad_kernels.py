"""Winograd F(4x4, 3x3) weight-gradient transforms: each kernel is the exact adjoint of its
forward sibling (dot-product tests in float64), and the composite equals a direct float64 weight
gradient, its float32 rounding bounded at ResNet-18's shapes."""
import numpy as np
import pytest

from minitorch.kernels import winograd43, winograd43_grad
from tests.kernels._python_f64 import float64_as_python

# float64 calls as Python (see _python_f64)
W4, W4G = float64_as_python(winograd43), float64_as_python(winograd43_grad)


def direct_grad_weight(x, dy, PH, PW):
    """Plain float64 weight gradient of a 3x3 stride-1 cross-correlation."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    OH, OW = dy.shape[2:]
    dw = np.empty((dy.shape[1], x.shape[1], 3, 3))
    for i in range(3):
        for j in range(3):
            dw[:, :, i, j] = np.einsum("nchw,nohw->oc", xp[:, :, i:i + OH, j:j + OW], dy)
    return dw


def grad_weight43(x, dy, PH, PW, pad_rows=0):
    N, C = x.shape[:2]
    O, OH, OW = dy.shape[1:]
    TH, TW = W4.tiles43(OH, OW)
    T = N * TH * TW
    V = np.full((36, C, T + pad_rows), np.nan, x.dtype)
    W4.input_transform43(V, x, PH, PW)
    dM = np.full((36, O, T + pad_rows), np.nan, x.dtype)  # every used element must be written
    W4G.output_transform_adjoint43(dM, dy)
    assert not np.isnan(dM[:, :, :T]).any() and np.isnan(dM[:, :, T:]).all()
    dU = np.matmul(dM[:, :, :T], V[:, :, :T].transpose(0, 2, 1))
    dw = np.full((O, C, 3, 3), np.nan, x.dtype)
    W4G.weight_grad_transform43(dw, dU)
    return dw


# (N, C, O, H, W, PH, PW): output sizes not multiples of 4, odd, non-square, a single tile
SHAPES = [(2, 3, 4, 6, 6, 1, 1), (1, 2, 3, 7, 5, 1, 1), (2, 3, 2, 9, 8, 0, 0),
          (1, 2, 2, 4, 5, 2, 1), (3, 1, 1, 3, 3, 1, 1), (1, 3, 2, 6, 10, 0, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_weight_gradient_equals_direct_in_float64(shape):
    N, C, O, H, W, PH, PW = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W))
    dy = rng.standard_normal((N, O, H + 2 * PH - 2, W + 2 * PW - 2))
    np.testing.assert_allclose(grad_weight43(x, dy, PH, PW, pad_rows=5),
                               direct_grad_weight(x, dy, PH, PW), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("OH,OW", [(8, 8), (7, 5), (3, 10)])
def test_output_adjoint_is_the_adjoint_of_the_output_transform(OH, OW):
    rng = np.random.default_rng(1)
    N, O = 2, 3
    TH, TW = W4.tiles43(OH, OW)
    M = rng.standard_normal((36, O, N * TH * TW))
    dy = rng.standard_normal((N, O, OH, OW))
    y = np.empty((N, O, OH, OW))
    W4.output_transform43(y, M, np.zeros(O), np.zeros((0, 0, 0, 0)), False)
    dM = np.empty_like(M)
    W4G.output_transform_adjoint43(dM, dy)
    assert np.isclose(np.vdot(y, dy), np.vdot(M, dM), rtol=1e-12)


def test_weight_grad_transform_is_the_adjoint_of_the_weight_transform():
    rng = np.random.default_rng(2)
    w, dU = rng.standard_normal((4, 5, 3, 3)), rng.standard_normal((36, 4, 5))
    U = np.empty((36, 4, 5))
    W4.weight_transform43(U, w, np.ones(U.shape[1]))
    dw = np.empty_like(w)
    W4G.weight_grad_transform43(dw, dU)
    assert np.isclose(np.vdot(U, dU), np.vdot(w, dw), rtol=1e-12)


@pytest.mark.parametrize("C,H", [(64, 56), (128, 28)])
def test_float32_error_at_resnet_shapes_stays_far_inside_the_parity_tolerance(C, H):
    # ~3e-6 of the largest element (F(2x2, 3x3): ~6e-7), against 2e-3 in the model parity tests
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((2, C, H, H)), 0)
    dy = rng.standard_normal((2, C, H, H)) * 1e-3
    ref = direct_grad_weight(x, dy, 1, 1)
    dw = grad_weight43(x.astype(np.float32), dy.astype(np.float32), 1, 1)
    assert dw.dtype == np.float32
    assert np.abs(dw - ref).max() / np.abs(ref).max() < 1e-5
