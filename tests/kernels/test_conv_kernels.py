"""im2col / col2im and the layout kernels against plain-numpy references."""
import numpy as np
import pytest

from minitorch.kernels import conv

# (N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW): strides, padding, dilation, non-square, 1x1
CASES = [
    (2, 3, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1),
    (1, 2, 9, 8, 3, 2, 2, 3, 1, 0, 1, 1),
    (2, 2, 10, 9, 3, 3, 2, 1, 2, 1, 2, 3),
    (3, 4, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1),
    (2, 3, 11, 11, 7, 7, 2, 2, 3, 3, 1, 1),
    (1, 1, 4, 4, 5, 5, 1, 1, 2, 2, 1, 1),
]


def out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def im2col_reference(x, KH, KW, SH, SW, PH, PW, DH, DW):
    N, C, H, W = x.shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    cols = np.empty((C, KH, KW, N, OH, OW), x.dtype)
    for kh in range(KH):
        for kw in range(KW):
            h0, w0 = kh * DH, kw * DW
            patch = xp[:, :, h0:h0 + SH * (OH - 1) + 1:SH, w0:w0 + SW * (OW - 1) + 1:SW]
            cols[:, kh, kw] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(C * KH * KW, N * OH * OW)


def col2im_reference(cols, shape, KH, KW, SH, SW, PH, PW, DH, DW):
    N, C, H, W = shape
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    c6 = cols.reshape(C, KH, KW, N, OH, OW)
    xp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), np.float64)
    for kh in range(KH):
        for kw in range(KW):
            h0, w0 = kh * DH, kw * DW
            xp[:, :, h0:h0 + SH * (OH - 1) + 1:SH, w0:w0 + SW * (OW - 1) + 1:SW] += \
                c6[:, kh, kw].transpose(1, 0, 2, 3)
    return xp[:, :, PH:PH + H, PW:PW + W]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_im2col_matches_numpy_reference_exactly(case, dtype):
    N, C, H, W, *geom = case
    x = np.random.default_rng(0).standard_normal((N, C, H, W)).astype(dtype)
    expected = im2col_reference(x, *geom)
    cols = np.full(expected.shape, np.nan, dtype)  # NaN fill: every slot must be written
    conv.im2col(cols, x, *geom)
    np.testing.assert_array_equal(cols, expected)


@pytest.mark.parametrize("case", CASES)
def test_im2col_rows_gives_each_band_of_output_rows_of_the_reference(case):
    # bands of 2 output rows (the last one shorter when OH is odd) cover the whole columns
    N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW = case
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    x = np.random.default_rng(2).standard_normal((N, C, H, W)).astype(np.float32)
    full = im2col_reference(x, KH, KW, SH, SW, PH, PW, DH, DW).reshape(-1, N, OH, OW)
    for r0 in range(0, OH, 2):
        r1 = min(OH, r0 + 2)
        band = np.full((C * KH * KW, N * (r1 - r0) * OW), np.nan, np.float32)
        conv.im2col_rows(band, x, KH, KW, SH, SW, PH, PW, DH, DW, r0)
        np.testing.assert_array_equal(band, full[:, :, r0:r1].reshape(band.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_col2im_sums_overlapping_windows_like_reference(case, dtype):
    N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW = case
    OH, OW = out_size(H, KH, SH, PH, DH), out_size(W, KW, SW, PW, DW)
    cols = np.random.default_rng(1).standard_normal((C * KH * KW, N * OH * OW)).astype(dtype)
    grad_x = np.full((N, C, H, W), np.nan, dtype)
    conv.col2im(grad_x, cols, KH, KW, SH, SW, PH, PW, DH, DW)
    expected = col2im_reference(cols, (N, C, H, W), KH, KW, SH, SW, PH, PW, DH, DW)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(grad_x, expected, rtol=tol, atol=tol)


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> == <x, col2im(c)> for any x, c: the defining property of the backward
    N, C, H, W, *geom = CASES[2]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, C, H, W))
    cols = np.empty_like(im2col_reference(x, *geom))
    conv.im2col(cols, x, *geom)
    c = rng.standard_normal(cols.shape)
    gx = np.empty_like(x)
    conv.col2im(gx, c, *geom)
    assert np.isclose(np.sum(cols * c), np.sum(x * gx), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swap01_swaps_the_leading_axes(dtype):
    src = np.random.default_rng(3).standard_normal((5, 3, 7)).astype(dtype)
    out = np.empty((3, 5, 7), dtype)
    conv.swap01(out, src, np.zeros(0, dtype), np.zeros((0, 0, 0), dtype), False)
    np.testing.assert_array_equal(out, src.transpose(1, 0, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 70, 33), (1, 5, 3), (3, 32, 64)])
def test_transpose12_transposes_each_batch_item(shape, dtype):
    src = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    out = np.empty((shape[0], shape[2], shape[1]), dtype)
    conv.transpose12(out, src, np.zeros(0, dtype), np.zeros((0, 0, 0), dtype), False)
    np.testing.assert_array_equal(out, src.transpose(0, 2, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", ["swap01", "transpose12"])
@pytest.mark.parametrize("bias,residual,relu", [(True, False, False), (True, False, True),
                                                (False, True, True), (True, True, True)])
def test_layout_copies_fuse_bias_residual_and_relu_as_the_separate_ops(kernel, bias, residual,
                                                                       relu, dtype):
    # the convolution's epilogue: bitwise copy, + bias[channel], + residual, relu (NaN kept)
    rng = np.random.default_rng(5)
    N, O, P = 3, 37, 45
    if kernel == "swap01":
        src = rng.standard_normal((O, N, P)).astype(dtype)
        plain = src.transpose(1, 0, 2)
    else:
        src = rng.standard_normal((N, P, O)).astype(dtype)
        plain = src.transpose(0, 2, 1)
    src.reshape(-1)[7] = np.nan
    b = rng.standard_normal(O).astype(dtype)
    res = rng.standard_normal((N, O, P)).astype(dtype)
    expected = plain + b.reshape(1, O, 1) if bias else plain.copy()
    if residual:
        expected = expected + res
    if relu:
        expected = np.where(np.isnan(expected) | (expected > 0), expected, 0).astype(dtype)
    out = np.empty((N, O, P), dtype)
    getattr(conv, kernel)(out, src, b if bias else np.zeros(0, dtype),
                          res if residual else np.zeros((0, 0, 0), dtype), relu)
    np.testing.assert_array_equal(out, expected)


def test_conv_output_size_matches_pytorch_formula():
    assert conv.conv_output_size(224, 7, 2, 3, 1) == 112
    assert conv.conv_output_size(10, 3, 2, 2, 3) == 4  # (10+4-6-1)//2+1
