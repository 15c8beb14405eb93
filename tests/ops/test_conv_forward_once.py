"""``ops.conv.forward_once``: a forward that runs once (a feature cache's fill) takes the serial
twins of F(2x2, 3x3)'s transforms (half their compile time), bitwise the same numbers, and
leaves every other forward alone."""
import threading

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.autograd.grad_mode import no_grad
from minitorch.kernels import winograd as KWG
from minitorch.kernels import winograd43 as KWG43
from minitorch.nn import functional as F
from minitorch.nn.fuse import conv_bn
from minitorch.ops import conv as conv_ops

_SPIED = ((KWG, "input_transform"), (KWG, "input_transform_serial"), (KWG, "output_transform"),
          (KWG, "output_transform_serial"), (KWG43, "input_transform43"))


@pytest.fixture
def calls(monkeypatch):
    """The names of the Winograd transform kernels called, in order."""
    seen = []
    for module, name in _SPIED:
        real = getattr(module, name)
        monkeypatch.setattr(module, name,
                            lambda *a, _real=real, _name=name: (seen.append(_name), _real(*a))[1])
    return seen


PARALLEL = {"input_transform", "output_transform"}
SERIAL = {"input_transform_serial", "output_transform_serial"}


def _conv_bn(C, seed=0):
    mt.manual_seed(seed)
    conv, bn = nn.Conv2d(C, C, 3, padding=1, bias=False), nn.BatchNorm2d(C)
    with no_grad():
        bn.running_mean.copy_(mt.randn(C) * 0.1)
        bn.running_var.copy_(mt.rand(C) + 0.5)
    for p in (*conv.parameters(), *bn.parameters()):
        p.requires_grad_(False)
    return conv, bn.eval()


@pytest.mark.parametrize("shape", [(8, 32, 16, 16), (1, 256, 14, 14)],
                         ids=["folded-batch", "batch-1"])
def test_a_frozen_conv_takes_the_serial_transforms_inside_bitwise(calls, shape):
    conv, bn = _conv_bn(shape[1])
    x = mt.randn(*shape)
    outside = conv_bn(conv, bn, x).numpy()
    assert set(calls) == PARALLEL
    del calls[:]
    with conv_ops.forward_once():
        assert conv_ops.in_forward_once()
        inside = conv_bn(conv, bn, x).numpy()
    assert set(calls) == SERIAL and not conv_ops.in_forward_once()
    assert np.array_equal(inside, outside)
    del calls[:]
    conv_bn(conv, bn, x)   # the plan kept inside serves outside with the parallel kernels
    assert set(calls) == PARALLEL


def test_a_recorded_conv2d_inside_has_the_same_forward_and_gradients(calls):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 16, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32) * 0.1
    results = []
    for once in (False, True):
        xt, wt = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
        if once:
            with conv_ops.forward_once():
                y = F.conv2d(xt, wt, padding=1)
        else:
            y = F.conv2d(xt, wt, padding=1)
        (y * y).sum().backward()   # (the backward is outside: the parallel kernels)
        results.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
    assert SERIAL <= set(calls) and "output_transform" in calls
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_f43_is_unchanged_inside_and_the_flag_is_per_thread(calls):
    conv, bn = _conv_bn(64)
    x = mt.randn(1, 64, 16, 16)   # (one image: a batch's slices would run pipelined)
    seen = []
    with conv_ops.forward_once():
        conv_bn(conv, bn, x)
        other = threading.Thread(target=lambda: seen.append(conv_ops.in_forward_once()))
        other.start()
        other.join()
        with conv_ops.forward_once():
            pass
        assert conv_ops.in_forward_once()   # a nested exit restores, not clears
    assert calls == ["input_transform43"] and seen == [False]
