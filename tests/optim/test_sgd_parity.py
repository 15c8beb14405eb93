"""SGD takes the same steps as torch.optim.SGD: against the committed fixture, and live."""
import os

import h5py
import numpy as np
import pytest

import minitorch as mt

from optim_cases import SGD_CASES, STEPS, make_inputs, run_sgd

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optim_sgd.h5")
TOL = 1e-9  # float64 parity; in practice the gap is a few ulps


def read_case(name):
    with h5py.File(FIXTURE, "r") as f:
        g = f[f"sgd/{name}"]
        n = len([k for k in g if k.startswith("init_")])
        init = [g[f"init_{i}"][()] for i in range(n)]
        grads = [g[f"grads_{i}"][()] for i in range(n)]
        traj = [g[f"traj_{i}"][()] for i in range(n)]
        bufs = {i: g[f"momentum_buffer_{i}"][()] for i in range(n)
                if f"momentum_buffer_{i}" in g}
    return init, grads, traj, bufs


@pytest.mark.parametrize("name", list(SGD_CASES))
def test_trajectory_matches_torch_fixture_step_for_step(name):
    init, grads, expected, expected_bufs = read_case(name)
    params, optimizer, traj = run_sgd(mt, SGD_CASES[name], init, grads)
    assert STEPS >= 50
    for i in range(len(params)):
        assert params[i].dtype == mt.float64
        np.testing.assert_allclose(traj[i], expected[i], rtol=0, atol=TOL,
                                   err_msg=f"{name}: parameter {i}")
    # Momentum state too: the same parameters carry a buffer, with the same values.
    bufs = {i: optimizer.state[p]["momentum_buffer"].numpy()
            for i, p in enumerate(params) if p in optimizer.state}
    assert sorted(bufs) == sorted(expected_bufs)
    for i, buf in bufs.items():
        np.testing.assert_allclose(buf, expected_bufs[i], rtol=0, atol=TOL)


@pytest.mark.parametrize("name", list(SGD_CASES))
def test_trajectory_matches_live_torch(name):
    torch = pytest.importorskip("torch")
    init, grads = make_inputs(seed=100)
    _, _, expected = run_sgd(torch, SGD_CASES[name], init, grads)
    _, _, traj = run_sgd(mt, SGD_CASES[name], init, grads)
    for i in range(len(init)):
        np.testing.assert_allclose(traj[i], expected[i], rtol=0, atol=TOL)


@pytest.mark.parametrize("name", ["momentum", "nesterov_weight_decay", "two_groups"])
def test_float32_matches_live_torch_to_float32_rounding(name):
    torch = pytest.importorskip("torch")
    init, grads = make_inputs(seed=7)
    init = [a.astype(np.float32) for a in init]
    grads = [a.astype(np.float32) for a in grads]
    t_params, _, _ = run_sgd(torch, SGD_CASES[name], init, grads)
    m_params, _, _ = run_sgd(mt, SGD_CASES[name], init, grads)
    for t, m in zip(t_params, m_params):
        assert m.dtype == mt.float32
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-5)


def train_regression(lib, x, y, w0, b0, steps=30):
    """Least squares trained with autograd gradients: the optimizer sees real .grad tensors
    (made by backward, whatever their memory layout), not hand-set ones."""
    w = lib.tensor(w0, requires_grad=True)
    b = lib.tensor(b0, requires_grad=True)
    opt = lib.optim.SGD([{"params": [w], "weight_decay": 0.01}, {"params": [b], "lr": 0.02}],
                        lr=0.05, momentum=0.9, nesterov=True)
    xt, yt = lib.tensor(x), lib.tensor(y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((xt @ w + b - yt) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), w.detach().numpy().copy(), b.detach().numpy().copy()


def test_training_with_autograd_gradients_matches_live_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    w0, b0 = rng.standard_normal((4, 2)), rng.standard_normal(2)
    expected = train_regression(torch, x, y, w0, b0)
    got = train_regression(mt, x, y, w0, b0)
    assert expected[0][-1] < expected[0][0] / 2  # the run really trains
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=0, atol=TOL)
