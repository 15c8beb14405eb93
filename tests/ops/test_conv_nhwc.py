"""The RGB stem's channels-last im2col (ops.conv_nhwc): torch's numbers, the fused max-pool
bitwise the separate one (NaN included), and which convolutions take it."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.kernels import conv_nhwc as NK
from minitorch.kernels import pool as pool_kernels
from minitorch.nn import functional as F
from minitorch.ops import conv as conv_ops
from minitorch.ops import conv_nhwc

torch = pytest.importorskip("torch")


# (the batch runs as slices on the product threads: one image each, or, at 9 small images,
# three per slice)
@pytest.mark.parametrize("shape,k,stride,pad", [((2, 3, 32, 32), 7, 2, 3),
                                                ((3, 3, 33, 31), 5, 3, 1),
                                                ((2, 1, 17, 17), 3, 2, 0),
                                                ((9, 3, 16, 16), 3, 2, 1)])
def test_strided_rgb_convolution_matches_torch_forward_and_backward(monkeypatch, shape, k,
                                                                    stride, pad):
    taken = []
    real = conv_nhwc.forward
    monkeypatch.setattr(conv_nhwc, "forward", lambda *a: taken.append(1) or real(*a))
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((8, shape[1], k, k)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    ms = [mt.tensor(a, requires_grad=True) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ym = F.conv2d(*ms, stride=stride, padding=pad)
    yt = torch.nn.functional.conv2d(*ts, stride=stride, padding=pad)
    assert taken  # the channels-last path ran
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    for m, t in zip(ms, ts):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=2e-4)


def test_which_convolutions_take_channels_last_columns():
    assert conv_nhwc.use_nhwc((2, 3, 224, 224), None, (2, 2), (1, 1), 1)
    assert not conv_nhwc.use_nhwc((2, 3, 32, 32), None, (1, 1), (1, 1), 1)   # the digits stem
    assert not conv_nhwc.use_nhwc((2, 16, 32, 32), None, (2, 2), (1, 1), 1)  # a wide layer
    assert not conv_nhwc.use_nhwc((2, 3, 32, 32), None, (2, 2), (2, 2), 1)   # dilated
    w = np.ones((8, 3, 7, 7), np.float32)
    # one image keeps the product that writes NCHW directly (no transpose after it)
    assert not conv_ops._Plan((1, 3, 64, 64), w, (2, 2), (3, 3), (1, 1), 1).nhwc
    assert conv_ops._Plan((2, 3, 64, 64), w, (2, 2), (3, 3), (1, 1), 1).nhwc


@pytest.mark.parametrize("geometry", [(3, 3, 2, 2, 1, 1, 1, 1), (2, 3, 1, 2, 0, 1, 2, 1)])
def test_channels_last_max_pool_is_the_nchw_pool_bitwise_with_nans(geometry):
    KH, KW, SH, SW, PH, PW, DH, DW = geometry
    rng = np.random.default_rng(5)
    y = rng.standard_normal((2, 9, 10, 6)).astype(np.float32)  # (N, H, W, C)
    y[0, 3, 4, 1] = np.nan
    y[1, 0, 0, 5] = np.nan
    y[1, 7, 2, :] = -np.inf
    OH = (9 + 2 * PH - DH * (KH - 1) - 1) // SH + 1
    OW = (10 + 2 * PW - DW * (KW - 1) - 1) // SW + 1
    out = np.empty((2, OH, OW, 6), np.float32)
    NK.max_pool_nhwc_values(out, y, *geometry)
    ref = np.empty((2, 6, OH, OW), np.float32)
    pool_kernels.max_pool2d_forward_values(ref, np.ascontiguousarray(y.transpose(0, 3, 1, 2)),
                                           *geometry)
    np.testing.assert_array_equal(out.transpose(0, 3, 1, 2), ref)
    assert np.isnan(out).any()


def test_fused_stem_with_max_pool_is_bitwise_the_separate_ops():
    # a frozen RGB stem: conv + eval BatchNorm + ReLU + max-pool in one pass equals the modules
    from minitorch.nn import fuse
    mt.manual_seed(0)
    conv, bn = mt.nn.Conv2d(3, 16, 7, 2, 3, bias=False), mt.nn.BatchNorm2d(16)
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    for p in list(conv.parameters()) + list(bn.parameters()):
        p.requires_grad_(False)
    bn.eval()
    relu, pool = mt.nn.ReLU(), mt.nn.MaxPool2d(3, 2, 1)
    x = mt.tensor(np.random.default_rng(1).standard_normal((3, 3, 40, 40)).astype(np.float32))
    with mt.no_grad():
        fused = fuse.conv_bn(conv, bn, x, relu=relu, maxpool=pool).numpy()
        folded = fuse.conv_bn(conv, bn, x).numpy()      # the same folded convolution
        separate = pool(relu(mt.tensor(folded))).numpy()
    np.testing.assert_array_equal(fused, separate)
    expected = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.batch_norm(
        torch.nn.functional.conv2d(torch.tensor(x.numpy()), torch.tensor(conv.weight.numpy()),
                                   stride=2, padding=3),
        torch.tensor(bn.running_mean.numpy()), torch.tensor(bn.running_var.numpy()))), 3, 2, 1)
    np.testing.assert_allclose(fused, expected.numpy(), rtol=1e-4, atol=1e-4)


def test_a_batchs_stem_weight_gradient_is_the_same_bits_on_one_thread_and_two():
    from minitorch.kernels import gemm
    rng = np.random.default_rng(8)
    x = rng.standard_normal((10, 3, 30, 30)).astype(np.float32)
    w = rng.standard_normal((8, 3, 7, 7)).astype(np.float32)
    before, grads = gemm.get_num_threads(), []
    try:
        for threads in (1, 2, 2):
            gemm.set_num_threads(threads)
            wm = mt.tensor(w, requires_grad=True)
            F.conv2d(mt.tensor(x), wm, stride=2, padding=3).square().sum().backward()
            grads.append(wm.grad.numpy())
    finally:
        gemm.set_num_threads(before)
    assert grads[0].tobytes() == grads[1].tobytes() == grads[2].tobytes()
    wt = torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(torch.tensor(x), wt, stride=2, padding=3).square().sum().backward()
    np.testing.assert_allclose(grads[0], wt.grad.numpy(), rtol=1e-4, atol=1e-2)
