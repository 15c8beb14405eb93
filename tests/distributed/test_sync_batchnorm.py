"""SyncBatchNorm's math, alone (comm=None): it must equal BatchNorm2d on the same batch."""
import numpy as np

import minitorch as mt
from minitorch import nn
from minitorch.autograd.gradcheck import gradcheck
from minitorch.distributed.sync_batchnorm import (SyncBatchNorm, SyncBatchNormFunction,
                                                  convert_sync_batchnorm)


def _apply(x, w, b, running=None, momentum=0.1):
    rm, rv = running if running is not None else (None, None)
    N, C, H, W = x.shape
    out = SyncBatchNormFunction.apply(x.reshape(N, C, H * W), w, b, running_mean=rm,
                                      running_var=rv, momentum=momentum, eps=1e-5, comm=None)
    return out.reshape(N, C, H, W)


def test_gradcheck_float64():
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((3, 2, 2, 3)), dtype=mt.float64, requires_grad=True)
    w = mt.tensor(rng.standard_normal(2) + 1.0, dtype=mt.float64, requires_grad=True)
    b = mt.tensor(rng.standard_normal(2), dtype=mt.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: _apply(x, w, b), (x, w, b))


def test_matches_batchnorm2d_output_grads_and_running_stats():
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((4, 3, 5, 5)) * 2 + 1).astype(np.float32)
    g = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    bn = nn.BatchNorm2d(3)
    with mt.no_grad():
        bn.weight.detach().numpy()[:] = [0.5, 1.5, -1.0]
        bn.bias.detach().numpy()[:] = [0.1, 0.0, -0.2]
    x_ref = mt.tensor(data, requires_grad=True)
    bn(x_ref).backward(mt.tensor(g))
    w = mt.tensor(bn.weight.detach().numpy().copy(), requires_grad=True)
    b = mt.tensor(bn.bias.detach().numpy().copy(), requires_grad=True)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    x = mt.tensor(data, requires_grad=True)
    out = _apply(x, w, b, running=(rm, rv))
    out.backward(mt.tensor(g))
    np.testing.assert_allclose(rm, bn.running_mean.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv, bn.running_var.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.detach().numpy(), x_ref.grad.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(w.grad.detach().numpy(), bn.weight.grad.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.grad.detach().numpy(), bn.bias.grad.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_forward_matches_batchnorm2d_in_training():
    rng = np.random.default_rng(2)
    data = (rng.standard_normal((2, 4, 3, 3)) * 3 - 1).astype(np.float32)
    bn = nn.BatchNorm2d(4)
    ref = bn(mt.tensor(data)).detach().numpy()
    out = _apply(mt.tensor(data), bn.weight.detach(), bn.bias.detach())
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-5, atol=1e-5)


def test_convert_keeps_objects_parameters_and_modes():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    bn, weight = model[1], model[1].weight
    bn.eval()
    assert convert_sync_batchnorm(model) is model
    assert type(model[1]) is SyncBatchNorm and model[1] is bn and model[1].weight is weight
    assert not model[1].training and type(model[0]) is nn.Conv2d
    # Alone, a SyncBatchNorm is a BatchNorm2d: same output in train mode.
    x = mt.tensor(np.random.default_rng(3).standard_normal((2, 4, 3, 3)).astype(np.float32))
    ref, new = nn.BatchNorm2d(4), model[1]
    new.train()
    np.testing.assert_array_equal(new(x).detach().numpy(), ref(x).detach().numpy())
