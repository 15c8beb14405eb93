"""Winograd F(2x2, 3x3) transforms: the composite against a direct convolution, and each
backward kernel as the exact adjoint of its forward kernel (<A x, y> == <x, A^T y>)."""
import numpy as np
import pytest


def NO_RES(dtype):
    """The kernels' empty residual (none to add)."""
    return np.zeros((0, 0, 0, 0), dtype)

from minitorch.kernels import winograd
from tests.kernels._python_f64 import float64_as_python

WG = float64_as_python(winograd)  # float64 calls as Python (see _python_f64)

# (N, C, O, H, W, PH, PW): even and odd outputs, non-square, padding 0..2
SHAPES = [(2, 3, 4, 6, 6, 1, 1), (1, 2, 3, 7, 5, 1, 1), (2, 3, 2, 9, 8, 0, 0),
          (1, 2, 2, 4, 5, 2, 1), (3, 1, 1, 3, 3, 1, 1)]


def direct_conv(x, w, PH, PW):
    """Plain float64 3x3 stride-1 cross-correlation (PyTorch's conv2d)."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    OH, OW = xp.shape[2] - 2, xp.shape[3] - 2
    out = np.zeros((x.shape[0], w.shape[0], OH, OW))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + OH, j:j + OW], w[:, :, i, j])
    return out


def transformed(w):
    U = np.full((16,) + w.shape[:2], np.nan, w.dtype)
    WG.weight_transform(U, w)
    return U


def forward(x, w, PH, PW):
    N, C, H, W = x.shape
    OH, OW = H + 2 * PH - 2, W + 2 * PW - 2
    TH, TW = WG.tiles(OH, OW)
    V = np.full((16, C, N * TH * TW), np.nan, x.dtype)  # every element must be written
    WG.input_transform(V, x, PH, PW)
    y = np.full((N, w.shape[0], OH, OW), np.nan, x.dtype)
    WG.output_transform(y, np.matmul(transformed(w), V), np.zeros(0, x.dtype), NO_RES(x.dtype),
                        False)
    return y


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_equals_direct_convolution(shape, dtype):
    N, C, O, H, W, PH, PW = shape
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((N, C, H, W)).astype(dtype), rng.standard_normal((O, C, 3, 3))
    y = forward(x, w.astype(dtype), PH, PW)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, direct_conv(x, w, PH, PW), rtol=tol, atol=tol)


def _dot(a, b):
    return float(np.vdot(a.astype(np.float64), b.astype(np.float64)))


@pytest.mark.parametrize("shape", SHAPES)
def test_output_transform_adjoint_is_the_adjoint(shape):
    N, _, O, H, W, PH, PW = shape
    OH, OW = H + 2 * PH - 2, W + 2 * PW - 2
    TH, TW = WG.tiles(OH, OW)
    rng = np.random.default_rng(1)
    M, dy = rng.standard_normal((16, O, N * TH * TW)), rng.standard_normal((N, O, OH, OW))
    y, dM = np.empty_like(dy), np.full_like(M, np.nan)
    WG.output_transform(y, M, np.zeros(0), NO_RES(M.dtype), False)
    WG.output_transform_adjoint(dM, dy)
    assert _dot(y, dy) == pytest.approx(_dot(M, dM), rel=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_input_transform_adjoint_is_the_adjoint(shape):
    N, C, _, H, W, PH, PW = shape
    TH, TW = WG.tiles(H + 2 * PH - 2, W + 2 * PW - 2)
    rng = np.random.default_rng(2)
    x, dV = rng.standard_normal((N, C, H, W)), rng.standard_normal((16, C, N * TH * TW))
    V, dx = np.empty_like(dV), np.full_like(x, np.nan)
    WG.input_transform(V, x, PH, PW)
    WG.input_transform_adjoint(dx, dV, PH, PW)
    assert _dot(V, dV) == pytest.approx(_dot(x, dx), rel=1e-12)


def test_weight_grad_transform_is_the_adjoint_of_weight_transform():
    rng = np.random.default_rng(3)
    w, dU = rng.standard_normal((5, 4, 3, 3)), rng.standard_normal((16, 5, 4))
    dw = np.full_like(w, np.nan)
    WG.weight_grad_transform(dw, dU)
    assert _dot(transformed(w), dU) == pytest.approx(_dot(w, dw), rel=1e-12)


def test_weight_transform_is_G_g_G_transposed():
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    w = np.random.default_rng(5).standard_normal((3, 2, 3, 3))
    expected = np.einsum("ia,ocab,jb->ijoc", G, w, G).reshape(16, 3, 2)
    np.testing.assert_allclose(transformed(w), expected, rtol=1e-14, atol=1e-14)


def test_tiles_cover_odd_outputs():
    assert WG.tiles(7, 6) == (4, 3) and WG.tiles(1, 2) == (1, 1)


def test_kernels_use_only_the_first_T_entries_of_padded_rows():
    """The convolution passes rows longer than T (so GEMM rows avoid power-of-two strides); the
    padding must be neither read into the results nor needed to be initialised."""
    N, C, O, H, W, PH, PW = 2, 3, 4, 5, 6, 1, 1
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C, 3, 3))
    TH, TW = WG.tiles(H, W)
    T, LD = N * TH * TW, N * TH * TW + 5
    V = np.full((16, C, LD), np.nan)
    WG.input_transform(V, x, PH, PW)
    assert np.isnan(V[:, :, T:]).all() and not np.isnan(V[:, :, :T]).any()
    M = np.full((16, O, LD), np.nan)
    M[:, :, :T] = np.matmul(transformed(w), V[:, :, :T])
    y = np.empty((N, O, H, W))
    WG.output_transform(y, M, np.zeros(0), NO_RES(M.dtype), False)
    np.testing.assert_allclose(y, direct_conv(x, w, PH, PW), rtol=1e-12, atol=1e-12)
    dM = np.full_like(M, np.nan)
    WG.output_transform_adjoint(dM, y)
    assert not np.isnan(dM[:, :, :T]).any()
    dx = np.empty_like(x)
    WG.input_transform_adjoint(dx, np.where(np.isnan(V), np.nan, 1.0), PH, PW)
    assert not np.isnan(dx).any()


def test_row_length_avoids_power_of_two_strides():
    from minitorch.ops.conv_winograd import _row_length

    for T, itemsize in [(16384, 4), (256, 4), (16384, 8), (12544, 4), (100, 4), (1, 8)]:
        LD = _row_length(T, itemsize)
        assert LD >= T and (LD * itemsize) % 64 == 0 and (LD * itemsize) % 1024 != 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_transform_adds_the_bias_per_output_channel(dtype):
    N, O, OH, OW = 2, 5, 5, 6
    TH, TW = WG.tiles(OH, OW)
    rng = np.random.default_rng(5)
    M = rng.standard_normal((16, O, N * TH * TW)).astype(dtype)
    bias = rng.standard_normal(O).astype(dtype)
    plain, biased = np.empty((N, O, OH, OW), dtype), np.empty((N, O, OH, OW), dtype)
    WG.output_transform(plain, M, np.zeros(0, dtype), NO_RES(dtype), False)
    WG.output_transform(biased, M, bias, NO_RES(dtype), False)
    np.testing.assert_array_equal(biased, plain + bias.reshape(1, O, 1, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias,residual", [(False, False), (True, False), (False, True),
                                           (True, True)])
def test_output_transform_fuses_bias_residual_and_relu_as_the_separate_ops(dtype, bias,
                                                                          residual):
    # bitwise the unfused sequence: conv, + bias, + residual, relu (NaN kept), each rounded
    N, O, OH, OW = 2, 5, 5, 6
    TH, TW = WG.tiles(OH, OW)
    rng = np.random.default_rng(6)
    M = rng.standard_normal((16, O, N * TH * TW)).astype(dtype)
    M[3, 1, 2] = np.nan  # a NaN reaches some outputs: relu keeps it
    b = rng.standard_normal(O).astype(dtype) if bias else np.zeros(0, dtype)
    res = rng.standard_normal((N, O, OH, OW)).astype(dtype) if residual else NO_RES(dtype)
    plain, fused = np.empty((N, O, OH, OW), dtype), np.empty((N, O, OH, OW), dtype)
    WG.output_transform(plain, M, np.zeros(0, dtype), NO_RES(dtype), False)
    WG.output_transform(fused, M, b, res, True)
    expected = plain
    if bias:
        expected = expected + b.reshape(1, O, 1, 1)
    if residual:
        expected = expected + res
    expected = np.where(np.isnan(expected) | (expected > 0), expected, 0).astype(dtype)
    assert np.isnan(expected).any() and (expected == 0).any()
    np.testing.assert_array_equal(fused, expected)
