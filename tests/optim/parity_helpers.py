"""Scaffolding the SGD and adaptive-optimizer parity tests share: reading a committed fixture
case, the float32 live comparison, and a tiny model trained with autograd gradients."""
import h5py
import numpy as np

from optim_cases import make_inputs, run_optimizer


def read_fixture_case(path, group, state_keys):
    """``(init, grads, traj, state)`` of one case of a fixture written by
    ``scripts/fixtures_optim.py``; ``state`` is ``{(param index, key): array}`` for the keys in
    ``state_keys`` that the case holds."""
    with h5py.File(path, "r") as f:
        g = f[group]
        n = len([k for k in g if k.startswith("init_")])
        init = [g[f"init_{i}"][()] for i in range(n)]
        grads = [g[f"grads_{i}"][()] for i in range(n)]
        traj = [g[f"traj_{i}"][()] for i in range(n)]
        state = {}
        for key in g:
            base, _, index = key.rpartition("_")
            if base in state_keys:
                state[(int(index), base)] = g[key][()]
    return init, grads, traj, state


def assert_float32_matches_torch(torch, lib, case, seed):
    """Run ``case`` in float32 with torch and ``lib``; the parameters must stay float32 and agree
    to float32 rounding. Returns ``lib``'s (params, optimizer)."""
    init, grads = ([a.astype(np.float32) for a in arrays] for arrays in make_inputs(seed))
    t_params, _, _ = run_optimizer(torch, case, init, grads)
    m_params, m_opt, _ = run_optimizer(lib, case, init, grads)
    for t, m in zip(t_params, m_params):
        assert m.dtype == lib.float32
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-5)
    return m_params, m_opt


def train_two_params(lib, make_optimizer, loss_of, x, y, w0, b0, steps):
    """``steps`` steps of ``make_optimizer(w, b)`` on ``loss_of(x @ w + b, y)`` with real
    ``.grad`` tensors made by backward; returns (losses, final w, final b) as numpy."""
    w = lib.tensor(w0, requires_grad=True)
    b = lib.tensor(b0, requires_grad=True)
    opt = make_optimizer(w, b)
    xt, yt = lib.tensor(x), lib.tensor(y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(lib, xt @ w + b, yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), w.detach().numpy().copy(), b.detach().numpy().copy()
