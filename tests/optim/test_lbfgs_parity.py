"""LBFGS follows torch.optim.LBFGS (fixed step): the same parameters after each step(closure),
the same iteration and evaluation counts, stopping rules, state and errors."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


def rosenbrock_run(lib, dtype, steps, **kwargs):
    """A 2-d Rosenbrock valley plus a small least-squares fit, the closure the usual way."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((12, 4))
    b = rng.standard_normal(12)
    xy = lib.tensor(np.array([-1.2, 1.0]), dtype=getattr(lib, dtype), requires_grad=True)
    w = lib.tensor(rng.standard_normal(4) * 0.1, dtype=getattr(lib, dtype), requires_grad=True)
    A, B = lib.tensor(a, dtype=getattr(lib, dtype)), lib.tensor(b, dtype=getattr(lib, dtype))
    opt = lib.optim.LBFGS([xy, w], **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2 + ((A @ w - B) ** 2).mean()
        loss.backward()
        calls.append(loss.item())
        return loss

    out = []
    for _ in range(steps):
        first = opt.step(closure)
        out.append((first.item(), xy.detach().numpy().copy(), w.detach().numpy().copy()))
    state = opt.state[xy]
    return out, calls, (state["n_iter"], state["func_evals"]), opt


@pytest.mark.parametrize("kwargs", [
    {"lr": 1, "max_iter": 20},
    {"lr": 0.5, "max_iter": 5, "history_size": 3},
    {"lr": 1, "max_iter": 10, "max_eval": 4},
    {"lr": 0.1, "max_iter": 20, "tolerance_change": 1e-3},
])
def test_float64_run_matches_torch(kwargs):
    expected, t_calls, t_counts, _ = rosenbrock_run(torch, "float64", 6, **kwargs)
    got, m_calls, m_counts, _ = rosenbrock_run(mt, "float64", 6, **kwargs)
    assert m_counts == t_counts and len(m_calls) == len(t_calls)
    np.testing.assert_allclose(m_calls, t_calls, rtol=1e-7, atol=1e-10)
    assert expected[-1][0] < expected[0][0]   # the run really descends
    # dot products summed in another order drift by ulps, which Rosenbrock's valley amplifies:
    # over the 120 iterations of the first case the fit's weights end 2.5e-7 apart on an AVX-512
    # machine (1e-11 in the others); a wrong direction or step would differ in the first digit
    for (l_t, xy_t, w_t), (l_m, xy_m, w_m) in zip(expected, got):
        np.testing.assert_allclose(xy_m, xy_t, rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(w_m, w_t, rtol=1e-6, atol=1e-10)


def test_float32_run_matches_torch_to_float32_rounding():
    expected, _, t_counts, _ = rosenbrock_run(torch, "float32", 3, lr=0.5, max_iter=8)
    got, _, m_counts, opt = rosenbrock_run(mt, "float32", 3, lr=0.5, max_iter=8)
    assert m_counts == t_counts
    for (_, xy_t, w_t), (_, xy_m, w_m) in zip(expected, got):
        assert xy_m.dtype == np.float32
        np.testing.assert_allclose(xy_m, xy_t, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(w_m, w_t, rtol=1e-4, atol=1e-5)
    state = next(iter(opt.state.values()))
    assert state["d"].dtype == mt.float32 and state["H_diag"].dtype == mt.float32


def test_state_dict_round_trip_continues_the_run():
    whole, _, _, _ = rosenbrock_run(mt, "float64", 4, lr=1, max_iter=3)
    part, _, _, opt = rosenbrock_run(mt, "float64", 2, lr=1, max_iter=3)
    params = opt.param_groups[0]["params"]
    fresh = mt.optim.LBFGS(params, lr=1, max_iter=3)
    fresh.load_state_dict(opt.state_dict())
    rng = np.random.default_rng(0)
    A, B = mt.tensor(rng.standard_normal((12, 4))), mt.tensor(rng.standard_normal(12))
    xy, w = params

    def closure():
        fresh.zero_grad()
        loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2 + ((A @ w - B) ** 2).mean()
        loss.backward()
        return loss

    for k in (2, 3):
        fresh.step(closure)
        np.testing.assert_array_equal(xy.detach().numpy(), whole[k][1])


def test_a_converged_problem_returns_at_once():
    for lib in (torch, mt):
        x = lib.zeros(3, requires_grad=True)
        opt = lib.optim.LBFGS([x])

        def closure():
            opt.zero_grad()
            loss = (x ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
        assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0


def test_errors():
    x = mt.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        mt.optim.LBFGS([x], lr=-1)
    with pytest.raises(ValueError, match="per-parameter options"):
        mt.optim.LBFGS([{"params": [x]}, {"params": [mt.zeros(1, requires_grad=True)]}])
