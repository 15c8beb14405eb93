"""The hand-written update loops of PyTorch's tutorials train exactly as in PyTorch: the same
weights after N steps (against live torch, and against the same loop written in numpy)."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 3)).astype(np.float32)
Y = (X @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.25).astype(np.float32)
W0 = rng.standard_normal((3, 1)).astype(np.float32)
B0 = np.zeros(1, np.float32)
LR, STEPS = 0.1, 25


def _numpy_reference():
    w, b = W0.astype(np.float64), B0.astype(np.float64)
    for _ in range(STEPS):
        err = X @ w + b - Y
        gw = X.T @ (2 * err) / err.size
        gb = (2 * err).sum(0) / err.size
        w, b = w - LR * gw, b - LR * gb
    return w, b


def _train(lib, update):
    w = lib.tensor(W0.copy(), requires_grad=True)
    b = lib.tensor(B0.copy(), requires_grad=True)
    x, y = lib.tensor(X), lib.tensor(Y)
    for _ in range(STEPS):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        update(lib, w, b)
    return w.detach().numpy().copy(), b.detach().numpy().copy()


def _isub_under_no_grad(lib, w, b):
    # "Learning PyTorch with examples": w -= lr * w.grad inside no_grad, then zero the grads
    with lib.no_grad():
        w -= LR * w.grad
        b -= LR * b.grad
    w.grad.zero_()
    b.grad.zero_()


def _data_sub(lib, w, b):
    # the 60-minute blitz: f.data.sub_(f.grad.data * learning_rate)
    for p in (w, b):
        p.data.sub_(p.grad.data * LR)
        p.grad.data.zero_()


def _grad_none(lib, w, b):
    with lib.no_grad():
        w.sub_(w.grad, alpha=LR)
        b.sub_(LR * b.grad)
    w.grad = None
    b.grad = None


@pytest.mark.parametrize("update", [_isub_under_no_grad, _data_sub, _grad_none])
def test_update_loop_gives_torchs_weights(update):
    mw, mb = _train(mt, update)
    tw, tb = _train(torch, update)
    np.testing.assert_allclose(mw, tw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mb, tb, rtol=1e-5, atol=1e-6)
    rw, rb = _numpy_reference()
    np.testing.assert_allclose(mw, rw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mb, rb, rtol=1e-4, atol=1e-5)
    assert not np.allclose(mw, W0)  # it trained


def test_module_parameters_update_loop_with_zero_grad():
    torch.manual_seed(0)
    tnet = torch.nn.Linear(3, 1)
    net = mt.nn.Linear(3, 1)
    with mt.no_grad():
        net.weight.copy_(mt.tensor(tnet.weight.detach().numpy()))
        net.bias.copy_(mt.tensor(tnet.bias.detach().numpy()))
    for lib, model in ((mt, net), (torch, tnet)):
        x, y = lib.tensor(X), lib.tensor(Y)
        for _ in range(STEPS):
            model.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= LR * p.grad
    np.testing.assert_allclose(net.weight.detach().numpy(), tnet.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bias.detach().numpy(), tnet.bias.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
