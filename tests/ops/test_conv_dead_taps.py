"""Kernel taps that only ever meet padding are cut off (small feature maps); nothing changes."""
import itertools

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch.ops import conv as C
from minitorch.ops import conv_taps as TAPS


def _taps(x_shape, w_shape, stride, padding, dilation=(1, 1)):
    out = C.conv2d_output_shape(x_shape, w_shape, stride, padding, dilation)[2:]
    return TAPS.live_taps(x_shape, w_shape, stride, padding, dilation, out)


def test_resnet_layer4_at_32px_keeps_only_the_taps_that_see_the_image():
    # 3x3 stride 1 over 1x1: the centre tap; 3x3 stride 2 from 2x2 to 1x1: the lower-right 2x2
    assert _taps((64, 512, 1, 1), (512, 512, 3, 3), (1, 1), (1, 1)) == ((1, 2), (1, 2))
    assert _taps((64, 256, 2, 2), (512, 256, 3, 3), (2, 2), (1, 1)) == ((1, 3), (1, 3))
    assert _taps((64, 256, 2, 2), (256, 256, 3, 3), (1, 1), (1, 1)) is None   # all taps live
    assert _taps((2, 3, 56, 56), (64, 3, 7, 7), (2, 2), (3, 3)) is None
    assert _taps((2, 3, 1, 9), (4, 3, 3, 3), (1, 1), (1, 1)) == ((1, 2), (0, 3))  # per axis


def test_trimmed_convolution_matches_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    trimmed = 0
    for (H, W), k, s, p, d in itertools.product([(1, 1), (2, 2), (1, 3), (3, 2)], [1, 3, 5],
                                                [1, 2], [0, 1, 2], [1, 2]):
        if min(H, W) + 2 * p < d * (k - 1) + 1:
            continue
        x, w = rng.standard_normal((2, 3, H, W)), rng.standard_normal((4, 3, k, k))
        b, trimmed = rng.standard_normal(4), trimmed + (_taps(x.shape, w.shape, (s, s), (p, p),
                                                              (d, d)) is not None)
        xm, wm, bm = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(xm, wm, bm, stride=s, padding=p, dilation=d)
        g = rng.standard_normal(y.shape)
        (y * mt.tensor(g)).sum().backward()
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        yt = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d)
        (yt * torch.tensor(g)).sum().backward()
        case = (H, W, k, s, p, d)
        for mine, ref in ((y, yt), (xm.grad, xt.grad), (wm.grad, wt.grad), (bm.grad, bt.grad)):
            np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=str(case))
    assert trimmed > 20  # the cases did exercise the trimming


def test_dead_taps_get_an_exactly_zero_weight_gradient_in_float32():
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((4, 16, 1, 1), dtype=np.float32))
    w = mt.tensor(rng.standard_normal((16, 16, 3, 3), dtype=np.float32), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    grad = w.grad.numpy()
    assert grad.dtype == np.float32 and grad.shape == (16, 16, 3, 3)
    mask = np.ones((3, 3), bool)
    mask[1, 1] = False
    assert (grad[:, :, mask] == 0).all() and (grad[:, :, 1, 1] != 0).all()
