"""ops.conv_batch1: the kept per-convolution plans of batch-1 inference."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.ops import conv_batch1


def _conv(C, O, k=3, stride=1, bias=False, seed=0):
    mt.manual_seed(seed)
    conv = nn.Conv2d(C, O, k, stride=stride, padding=k // 2, bias=bias)
    conv.requires_grad_(False)
    return conv


def test_the_plan_is_kept_and_rebuilt_when_the_weight_changes():
    conv = _conv(16, 16)
    x = np.random.default_rng(0).standard_normal((1, 16, 8, 8)).astype(np.float32)
    plan = conv_batch1.plan_for(conv, x.shape)
    assert conv_batch1.plan_for(conv, x.shape) is plan
    before = conv_batch1.conv2d(conv, x)
    with mt.no_grad():
        conv.weight.mul_(2.0)  # in place: the version moves, the kept U must not be reused
    assert conv_batch1.plan_for(conv, x.shape) is not plan
    np.testing.assert_allclose(conv_batch1.conv2d(conv, x), 2 * before, rtol=1e-5, atol=1e-5)
    conv.weight = nn.Parameter(mt.zeros(16, 16, 3, 3))  # replaced
    assert not conv_batch1.conv2d(conv, x).any()


def test_layer3_sized_weights_run_winograd_with_the_transform_kept_layer4_im2col():
    # ResNet-18 at batch 1 and 224: layer3 (256x256 at 14x14) F(2x2, 3x3) with U kept (4 MiB);
    # layer4's 512x512 would keep 16.8 MiB: im2col, nothing kept
    l3 = conv_batch1.plan_for(_conv(256, 256), (1, 256, 14, 14))
    assert l3.winograd and l3.planes == 16 and l3.U is not None
    assert l3.U.nbytes <= conv_batch1.KEEP_U_BYTES
    l4 = conv_batch1.plan_for(_conv(512, 512), (1, 512, 7, 7))
    assert not l4.winograd and l4.U is None
    strided = conv_batch1.plan_for(_conv(128, 256, stride=2), (1, 128, 28, 28))
    assert not strided.winograd


@pytest.mark.parametrize("C,O,H,k,stride,bias", [(256, 256, 14, 3, 1, False),
                                                 (512, 512, 7, 3, 1, False),  # thin W @ cols
                                                 (64, 64, 20, 3, 1, True),
                                                 (3, 16, 23, 7, 2, False),
                                                 (32, 64, 9, 1, 2, True)])
def test_matches_torch(C, O, H, k, stride, bias):
    torch = pytest.importorskip("torch")
    conv = _conv(C, O, k, stride, bias, seed=C + O)
    x = np.random.default_rng(1).standard_normal((1, C, H, H)).astype(np.float32)
    got = conv_batch1.conv2d(conv, x)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(conv.weight.numpy()),
        None if conv.bias is None else torch.from_numpy(conv.bias.numpy()),
        stride=stride, padding=k // 2).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_large_columns_are_made_in_bands_of_output_rows(monkeypatch):
    # the stem's 7.4 MB of columns at 224x224, here forced with a small band size: 23 output
    # rows of 23 pixels at 3*7*7*4 bytes per pixel, a band of 3.5 rows' bytes -> 3 rows
    from minitorch.ops import conv as conv_ops
    conv = _conv(3, 16, 7, 2, bias=True, seed=5)
    x = np.random.default_rng(2).standard_normal((1, 3, 45, 45)).astype(np.float32)
    whole = conv_batch1.conv2d(conv, x)
    bands = []
    real = conv_ops.K.im2col_rows

    def spy(cols, *args):
        bands.append(cols.shape)
        return real(cols, *args)

    band_bytes = 147 * 23 * 4 * 7 // 2
    monkeypatch.setattr(conv_ops, "_BAND_BYTES", band_bytes)
    monkeypatch.setattr(conv_ops.K, "im2col_rows", spy)
    banded = conv_batch1.conv2d(conv, x)
    assert [s[1] for s in bands] == [3 * 23] * 7 + [2 * 23]
    assert all(s[0] * s[1] * 4 <= band_bytes for s in bands)
    np.testing.assert_allclose(banded, whole, rtol=1e-6, atol=1e-6 * np.abs(whole).max())
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(
        conv.weight.numpy()), torch.from_numpy(conv.bias.numpy()), stride=2, padding=3).numpy()
    np.testing.assert_allclose(banded, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
