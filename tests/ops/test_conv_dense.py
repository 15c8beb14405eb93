"""Convolutions on maps of a few pixels run as one dense product (ops/conv_dense.py)."""
import itertools

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import nn
from minitorch.nn import fuse
from minitorch.kernels import conv_dense as K
from minitorch.ops import conv as C
from minitorch.ops import conv_dense as DENSE


def _plan(x_shape, w_shape, stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1):
    return C._Plan(x_shape, np.zeros(w_shape, np.float32), stride, padding, dilation, groups)


def test_taken_where_it_makes_no_more_products_than_im2col_or_winograd():
    # torchvision's ResNet-18 at 32x32 input: layer3 (2x2 maps) and layer4 (1x1)
    assert _plan((64, 256, 2, 2), (256, 256, 3, 3)).dense is not None
    assert _plan((64, 256, 2, 2), (512, 256, 3, 3), stride=(2, 2)).dense is not None
    assert _plan((64, 512, 1, 1), (512, 512, 3, 3)).dense is not None
    # 4x4 and larger maps keep Winograd; a strided 4x4 -> 2x2 keeps im2col (16 inputs, 9 taps)
    assert _plan((64, 128, 4, 4), (128, 128, 3, 3)).dense is None
    assert _plan((64, 128, 4, 4), (256, 128, 3, 3), stride=(2, 2)).dense is None
    assert _plan((64, 64, 8, 8), (64, 64, 3, 3)).dense is None
    # a 1x1 kernel reads one of a 2x2 map's four pixels per output: im2col
    assert _plan((64, 256, 2, 2), (512, 256, 1, 1), stride=(2, 2), padding=(0, 0)).dense is None
    # grouped, and a matrix over the size bound (2x2 map, 1024 channels: 64 MB)
    assert _plan((2, 256, 2, 2), (256, 128, 3, 3), groups=2).dense is None
    assert _plan((2, 1024, 2, 2), (1024, 1024, 3, 3)).dense is None


def test_tap_table_links_each_pixel_pair_through_its_tap():
    T = DENSE.tap_table((1, 1, 2, 2), (1, 1, 3, 3), (1, 1), (1, 1), (1, 1), (2, 2))
    # input pixel (iy, ix) reaches output (oy, ox) through tap (iy - oy + 1, ix - ox + 1)
    for (iy, ix, oy, ox) in itertools.product(range(2), repeat=4):
        assert T[iy * 2 + ix, oy * 2 + ox] == (iy - oy + 1) * 3 + (ix - ox + 1)
    # stride 2 from 3 pixels to 2: output 1 reads inputs 1..3 (taps 0..2), output 0 reads 0..1
    T = DENSE.tap_table((1, 1, 1, 3), (1, 1, 1, 3), (1, 2), (0, 1), (1, 1), (1, 2))
    assert T.tolist() == [[1, -1], [2, 0], [-1, 1]]


def test_the_weight_gradient_fold_is_the_adjoint_of_the_gather():
    rng = np.random.default_rng(0)
    for x_shape, w_shape, s, p, d in [((1, 3, 2, 2), (4, 3, 3, 3), 1, 1, 1),
                                      ((1, 2, 1, 3), (5, 2, 3, 3), 2, 1, 1),
                                      ((1, 3, 2, 2), (2, 3, 3, 3), 1, 2, 2)]:
        out_hw = C.conv2d_output_shape(x_shape, w_shape, (s, s), (p, p), (d, d))[2:]
        T = DENSE.tap_table(x_shape, w_shape, (s, s), (p, p), (d, d), out_hw)
        w = rng.standard_normal(w_shape)
        D = DENSE.dense_matrix(w, T)
        G = rng.standard_normal(D.shape)
        gw = np.empty(w_shape)
        K.dense_weight_grad(gw.reshape(w_shape[0], w_shape[1], -1), G, T)
        np.testing.assert_allclose((D * G).sum(), (w * gw).sum(), rtol=1e-12)
        dead = ~np.isin(np.arange(w[0, 0].size), T[T >= 0])
        assert (gw.reshape(*w_shape[:2], -1)[:, :, dead] == 0).all()


def test_values_and_gradients_match_torch_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    dense = 0
    for (H, W), k, s, p, d in itertools.product([(1, 1), (2, 2), (1, 2), (2, 3), (3, 3)],
                                                [1, 2, 3], [1, 2], [0, 1, 2], [1, 2]):
        if min(H, W) + 2 * p < d * (k - 1) + 1:
            continue
        x, w = rng.standard_normal((3, 4, H, W)), rng.standard_normal((5, 4, k, k))
        b = rng.standard_normal(5)
        dense += _plan(x.shape, w.shape, (s, s), (p, p), (d, d)).dense is not None
        xm, wm, bm = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(xm, wm, bm, stride=s, padding=p, dilation=d)
        g = rng.standard_normal(y.shape)
        y.backward(mt.tensor(g))
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        yt = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d)
        yt.backward(torch.tensor(g))
        for mine, ref in ((y, yt), (xm.grad, xt.grad), (wm.grad, wt.grad), (bm.grad, bt.grad)):
            np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=str((H, W, k, s, p, d)))
    assert dense > 30  # the cases did take the dense path


@pytest.mark.parametrize("where", ["input", "grad"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_nan_or_inf_reaches_only_the_pixels_its_taps_link(where, bad):
    # on a 3x3 map a 3x3 kernel links a corner to 4 of the 9 outputs: the dense product
    # alone would spread it to all of them (0 * nan), as torch does not
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((5, 4, 3, 3))
    g = rng.standard_normal((2, 5, 3, 3))
    assert _plan(x.shape, w.shape).dense is not None
    (x if where == "input" else g)[0, 1, 0, 0] = bad
    xm, wm = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
    y = F.conv2d(xm, wm, padding=1)
    y.backward(mt.tensor(g))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, padding=1)
    yt.backward(torch.tensor(g))
    for mine, ref in ((y, yt), (xm.grad, xt.grad), (wm.grad, wt.grad)):
        np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,stride", [((16, 256, 2, 2), (256, 256, 3, 3), 1),
                                                    ((16, 256, 2, 2), (512, 256, 3, 3), 2),
                                                    ((16, 512, 1, 1), (512, 512, 3, 3), 1)])
def test_resnet_shapes_match_torch_in_float32(x_shape, w_shape, stride):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32) * 0.05
    xm, wm = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
    y = F.conv2d(xm, wm, stride=stride, padding=1)
    g = rng.standard_normal(y.shape, dtype=np.float32)
    y.backward(mt.tensor(g))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, stride=stride, padding=1)
    yt.backward(torch.tensor(g))
    for mine, ref in ((y, yt), (xm.grad, xt.grad), (wm.grad, wt.grad)):
        assert mine.dtype == mt.float32
        np.testing.assert_allclose(mine.detach().numpy(), ref.detach().numpy(), rtol=1e-4,
                                   atol=1e-4)


def test_only_the_gradients_asked_for_are_made_and_accumulate():
    rng = np.random.default_rng(3)
    x = mt.tensor(rng.standard_normal((2, 8, 2, 2)))
    w = mt.tensor(rng.standard_normal((8, 8, 3, 3)), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    first = w.grad.numpy().copy()
    F.conv2d(x, w, padding=1).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-12)
    assert x.grad is None


def test_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((4, 3, 3, 3))

    def run(lib, conv):
        xa, wa = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = conv(xa, wa, padding=1)
        (gx,) = lib.autograd.grad((y ** 2).sum(), xa, create_graph=True)
        (gx ** 2).sum().backward()
        return gx.detach().numpy(), wa.grad.numpy(), xa.grad.numpy()

    mine = run(mt, F.conv2d)
    ref = run(torch, torch.nn.functional.conv2d)
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_frozen_backbone_folds_batch_norm_into_the_dense_plan():
    # conv + eval BatchNorm + residual + ReLU on a 2x2 map: the fused inference path equals
    # the separate ops to float32 rounding
    mt.manual_seed(0)
    conv, bn = nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    bn.eval()
    for p in (*conv.parameters(), *bn.parameters()):
        p.requires_grad_(False)
    x, res = mt.randn(8, 32, 2, 2), mt.randn(8, 32, 2, 2)
    fused = fuse.conv_bn(conv, bn, x, residual=res, relu=nn.ReLU())
    plans = list(fuse._folded[conv].plans.values())
    assert plans and all(plan.dense is not None for plan in plans)
    with mt.no_grad():
        ref = F.relu(F.batch_norm(F.conv2d(x, conv.weight, padding=1), bn.running_mean,
                                  bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps) + res)
    np.testing.assert_allclose(fused.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
