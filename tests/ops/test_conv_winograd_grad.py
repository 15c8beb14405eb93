"""The 3x3 stride-1 convolution's backward through F(4x4, 3x3) (the input gradient as a forward
convolution with the flipped, channel-transposed weight; the weight gradient by the adjoint
transforms) against torch, and which algorithm each gradient takes."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch.ops import conv_winograd_grad as G


def rel_err(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


# (N, C, O, H, W, padding): 64+ channels and 16+ pixels take F(4x4, 3x3); a 32-channel side, a
# small map and padding 0 or 2 mix the algorithms
CASES = [(2, 64, 64, 18, 17, 1), (2, 64, 128, 16, 16, 1), (1, 64, 64, 20, 21, 0),
         (1, 64, 64, 17, 16, 2), (2, 64, 32, 16, 16, 1), (2, 32, 64, 16, 16, 1),
         (2, 64, 64, 9, 9, 1)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)])
def test_conv2d_gradients_match_torch(case, needs):
    torch = pytest.importorskip("torch")
    N, C, O, H, W, p = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((O, C, 3, 3)) * 0.05).astype(np.float32)
    xm, wm = mt.tensor(x, requires_grad=needs[0]), mt.tensor(w, requires_grad=needs[1])
    xt, wt = torch.tensor(x, requires_grad=needs[0]), torch.tensor(w, requires_grad=needs[1])
    y = F.conv2d(xm, wm, padding=p)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(mt.tensor(g))
    torch.nn.functional.conv2d(xt, wt, padding=p).backward(torch.from_numpy(g))
    for ours, theirs in ((xm, xt), (wm, wt)):
        if theirs.requires_grad:
            assert ours.grad.dtype == mt.float32 and ours.grad.shape == theirs.grad.shape
            assert rel_err(ours.grad.numpy(), theirs.grad.numpy()) < 1e-5
        else:
            assert ours.grad is None


def test_each_gradient_takes_F4x4_where_the_forward_would(monkeypatch):
    calls = []
    for name in ("_grad_weight43", "_grad_input43"):
        real = getattr(G, name)
        monkeypatch.setattr(G, name, lambda *a, real=real, name=name: (calls.append(name),
                                                                      real(*a))[1])
    rng = np.random.default_rng(1)

    def run(C, O, H):
        calls.clear()
        x = mt.tensor(rng.standard_normal((1, C, H, H)).astype(np.float32), requires_grad=True)
        w = mt.tensor(rng.standard_normal((O, C, 3, 3)).astype(np.float32), requires_grad=True)
        F.conv2d(x, w, padding=1).sum().backward()
        return sorted(calls)

    assert run(64, 64, 16) == ["_grad_input43", "_grad_weight43"]
    assert run(64, 64, 8) == []             # too small a map: F(2x2, 3x3) for both
    assert run(32, 64, 16) == []            # too few channels on one side


@pytest.mark.parametrize("step", [1, 3])
def test_batch_slices_give_the_whole_batch_gradients(step, monkeypatch):
    # one image, then three, per slice: the weight gradient's partial products summed (the
    # whole-batch passes: 64 channels would otherwise run pipelined, test_conv_pipelined.py)
    from minitorch.ops import conv_winograd
    from minitorch.ops.conv import _workspace
    monkeypatch.setattr(conv_winograd, "_PIPELINE_MAX_CHANNELS", 0)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 64, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    g = rng.standard_normal((3, 64, 16, 16)).astype(np.float32)
    gx, gw = G.winograd_backward(_workspace, x, w, g, (1, 1), True, True,
                                 lambda N, _: [(n, min(N, n + step)) for n in range(0, N, step)])
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(xt, wt, padding=1).backward(torch.from_numpy(g))
    assert rel_err(gx, xt.grad.numpy()) < 1e-5 and rel_err(gw, wt.grad.numpy()) < 1e-5


def test_a_small_map_backward_reuses_the_forward_weight_transform(monkeypatch):
    # F(2x2, 3x3) both ways (64 channels, 8x8): the input gradient's product takes the U the
    # forward made, so one transform per step, and the gradient still matches a fresh one
    from minitorch.ops import conv_winograd as WG
    calls = []
    real = WG.weight_transform
    monkeypatch.setattr(WG, "weight_transform", lambda *a, **k: calls.append(a[1:2]) or
                        real(*a, **k))
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((2, 64, 8, 8)).astype(np.float32), requires_grad=True)
    w = mt.tensor((rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32),
                  requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert calls == [(16,)]
    U = real(w.detach().numpy(), 16)
    fresh = WG.winograd_grad_input(lambda name, shape, dtype: np.empty(shape, dtype), (2, 64, 8, 8),
                                   w.detach().numpy(),
                                   WG.grad_products(lambda n, s, d: np.empty(s, d),
                                                    np.ones((2, 64, 8, 8), np.float32)), (1, 1), U)
    assert np.array_equal(x.grad.numpy(), fresh)
