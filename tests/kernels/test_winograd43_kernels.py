"""Winograd F(4x4, 3x3) forward transforms: the composite against a direct convolution (exact in
float64, its rounding bounded in float32 at ResNet-18's shapes), and the convolution op's choice
between F(4x4, 3x3) and F(2x2, 3x3)."""
import numpy as np
import pytest

from minitorch.kernels import winograd43
from tests.kernels._python_f64 import float64_as_python

W4 = float64_as_python(winograd43)  # float64 calls as Python (see _python_f64)



def direct_conv(x, w, PH, PW):
    """Plain float64 3x3 stride-1 cross-correlation (PyTorch's conv2d)."""
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    OH, OW = xp.shape[2] - 2, xp.shape[3] - 2
    return sum(np.einsum("nchw,oc->nohw", xp[:, :, i:i + OH, j:j + OW], w[:, :, i, j])
               for i in range(3) for j in range(3))


def forward43(x, w, PH, PW, bias=None, pad_rows=0, res=None, relu=False):
    N, C, H, W = x.shape
    O = w.shape[0]
    OH, OW = H + 2 * PH - 2, W + 2 * PW - 2
    TH, TW = W4.tiles43(OH, OW)
    T = N * TH * TW
    V = np.full((36, C, T + pad_rows), np.nan, x.dtype)  # every used element must be written
    W4.input_transform43(V, x, PH, PW)
    assert not np.isnan(V[:, :, :T]).any() and np.isnan(V[:, :, T:]).all()
    U = np.full((36, O, C), np.nan, x.dtype)
    W4.weight_transform43(U, w, np.ones(U.shape[1]))
    M = np.full((36, O, T + pad_rows), np.nan, x.dtype)
    M[:, :, :T] = np.matmul(U, V[:, :, :T])
    y = np.full((N, O, OH, OW), np.nan, x.dtype)
    res = np.zeros((0, 0, 0, 0), x.dtype) if res is None else res
    W4.output_transform43(y, M, np.zeros(O, x.dtype) if bias is None else bias, res, relu)
    return y


# (N, C, O, H, W, PH, PW): sizes that are not multiples of 4, odd, non-square, a single tile,
# padding 0..2
SHAPES43 = [(2, 3, 4, 6, 6, 1, 1), (1, 2, 3, 7, 5, 1, 1), (2, 3, 2, 9, 8, 0, 0),
            (1, 2, 2, 4, 5, 2, 1), (3, 1, 1, 3, 3, 1, 1), (1, 2, 3, 13, 11, 1, 1),
            (2, 4, 5, 16, 9, 1, 1), (1, 3, 2, 6, 10, 0, 2)]


@pytest.mark.parametrize("shape", SHAPES43)
def test_forward_equals_direct_convolution_in_float64(shape):
    N, C, O, H, W, PH, PW = shape
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C, 3, 3))
    np.testing.assert_allclose(forward43(x, w, PH, PW), direct_conv(x, w, PH, PW), rtol=1e-12,
                               atol=1e-12)


def test_padded_rows_are_neither_read_nor_written():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((4, 3, 3, 3))
    np.testing.assert_allclose(forward43(x, w, 1, 1, pad_rows=7), direct_conv(x, w, 1, 1),
                               rtol=1e-12, atol=1e-12)


def test_output_transform_adds_the_bias_per_output_channel():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((5, 3, 3, 3))
    bias = rng.standard_normal(5)
    np.testing.assert_allclose(forward43(x, w, 1, 1, bias), forward43(x, w, 1, 1)
                               + bias.reshape(1, 5, 1, 1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("residual", [False, True])
def test_output_transform_fuses_residual_and_relu_as_the_separate_ops(dtype, residual):
    # bitwise the unfused sequence: conv + bias, + residual, relu (NaN kept), each rounded
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    w = rng.standard_normal((5, 3, 3, 3)).astype(dtype)
    bias = rng.standard_normal(5).astype(dtype)
    bias[2] = np.nan  # a NaN reaches channel 2's outputs: relu keeps it
    res = rng.standard_normal((2, 5, 9, 10)).astype(dtype) if residual else None
    expected = forward43(x, w, 1, 1, bias)
    if residual:
        expected = expected + res
    expected = np.where(np.isnan(expected) | (expected > 0), expected, 0).astype(dtype)
    assert np.isnan(expected).any() and (expected == 0).any()
    np.testing.assert_array_equal(forward43(x, w, 1, 1, bias, res=res, relu=True), expected)


def test_weight_transform_is_G_g_G_transposed():
    G = np.array([[1, 0, 0], [1, 1, 1], [-1, 1, -1], [-16, -8, -4], [1, -2, 4], [0, 0, 1]]) \
        / np.array([1, 3, 3, 15, 15, 1]).reshape(6, 1)
    w = np.random.default_rng(3).standard_normal((3, 2, 3, 3))
    U = np.empty((36, 3, 2))
    W4.weight_transform43(U, w, np.ones(U.shape[1]))
    np.testing.assert_allclose(U, np.einsum("ia,ocab,jb->ijoc", G, w, G).reshape(36, 3, 2),
                               rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("C,H", [(64, 56), (128, 28), (64, 16)])
def test_float32_error_at_resnet_shapes_stays_far_inside_the_parity_tolerance(C, H):
    # the parity tests allow 1e-4 of the largest logit; one F(4x4, 3x3) layer costs ~3e-6
    # (F(2x2, 3x3) ~4e-7), so a dozen of them in a row stay an order of magnitude inside it
    rng = np.random.default_rng(4)
    x = np.maximum(rng.standard_normal((2, C, H, H)), 0)
    w = rng.standard_normal((C, C, 3, 3)) * np.sqrt(2 / (9 * C))
    ref = direct_conv(x, w, 1, 1)
    y = forward43(x.astype(np.float32), w.astype(np.float32), 1, 1)
    assert y.dtype == np.float32
    assert np.abs(y - ref).max() / np.abs(ref).max() < 1e-5


def test_the_convolution_takes_F4x4_only_where_it_was_measured_to_pay():
    from minitorch.ops.conv_winograd import forward_planes

    assert forward_planes(64, 64, 56, 56) == 36 and forward_planes(128, 128, 28, 28) == 36
    assert forward_planes(64, 64, 16, 16) == 36  # the small variant's layer1 at 32x32 input
    assert forward_planes(256, 256, 14, 14) == 16 and forward_planes(512, 512, 7, 7) == 16
    assert forward_planes(16, 16, 32, 32) == 16  # the digits job's width-16 model
    # the forward's rule: layer3 and layer4 too, where 256 channels and more make the products
    # dominate; not 64 channels at 8x8 (torchvision's stem at 32x32) nor 512 at 4x4
    assert forward_planes(256, 256, 14, 14, small_maps=True) == 36
    assert forward_planes(512, 512, 7, 7, small_maps=True) == 36
    assert forward_planes(256, 256, 8, 8, small_maps=True) == 36  # the small variant's layer3
    assert forward_planes(64, 64, 8, 8, small_maps=True) == 16
    assert forward_planes(512, 512, 4, 4, small_maps=True) == 16


def test_a_scaled_weight_transform_is_bitwise_the_transform_of_the_scaled_weight():
    # a folded BatchNorm: U of round(w * s[o]) made from w and s, no folded copy of w needed
    from minitorch.ops.conv_winograd import scaled_weight
    rng = np.random.default_rng(5)
    w = rng.standard_normal((40, 7, 3, 3)).astype(np.float32)
    scale = rng.uniform(0.1, 3.0, 40)
    U, ref = np.empty((36, 40, 7), np.float32), np.empty((36, 40, 7), np.float32)
    W4.weight_transform43(U, w, scale)
    W4.weight_transform43(ref, scaled_weight(w, scale), np.ones(40))
    np.testing.assert_array_equal(U, ref)
    W4.weight_transform43(ref, w, np.ones(40))  # and the scale did something
    assert not np.allclose(U, ref)


def test_conv2d_through_F4x4_matches_torch():
    torch = pytest.importorskip("torch")
    import minitorch as mt
    import minitorch.nn.functional as F
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 64, 18, 17)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    ours = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), padding=1).numpy()
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                                     torch.from_numpy(b), padding=1).numpy()
    assert np.abs(ours - ref).max() / np.abs(ref).max() < 1e-5
