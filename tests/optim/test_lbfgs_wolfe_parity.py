"""LBFGS(line_search_fn="strong_wolfe") follows torch.optim.LBFGS step by step: the same
iterates, the same losses at every closure call, the same ``func_evals``/``n_iter`` counts and
stopping, the same state, across a state_dict round trip; and torch's error for another name."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.optim._line_search import cubic_interpolate

torch = pytest.importorskip("torch")


def rosenbrock(start):
    def make(lib, dtype):
        xy = lib.tensor(np.array(start), dtype=getattr(lib, dtype), requires_grad=True)
        return [xy], lambda: (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
    return make


def logistic_data(lib, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 4))
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.standard_normal(40) > 0) * 1.0
    return lib.tensor(x, dtype=getattr(lib, dtype)), lib.tensor(y, dtype=getattr(lib, dtype))


def logistic_loss(x, y, w, b):
    """The logistic regression's mean negative log-likelihood plus a small ridge term."""
    z = x @ w + b
    return ((1 + z.exp()).log() - y * z).mean() + 0.01 * (w ** 2).sum()


def logistic_regression(lib, dtype):
    x, y = logistic_data(lib, dtype)
    w = lib.zeros(4, dtype=getattr(lib, dtype), requires_grad=True)
    b = lib.zeros(1, dtype=getattr(lib, dtype), requires_grad=True)
    return [w, b], lambda: logistic_loss(x, y, w, b)


def mlp(lib, dtype):
    """A one-hidden-layer tanh network on a least-squares fit: four parameters of three shapes."""
    rng = np.random.default_rng(2)
    x_np, y_np = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    t = lambda a, **kw: lib.tensor(a, dtype=getattr(lib, dtype), **kw)   # noqa: E731
    x, y = t(x_np), t(y_np)
    w1 = t(rng.standard_normal((3, 5)) * 0.5, requires_grad=True)
    b1 = t(np.zeros(5), requires_grad=True)
    w2 = t(rng.standard_normal((5, 1)) * 0.5, requires_grad=True)
    b2 = t(np.zeros(1), requires_grad=True)
    return [w1, b1, w2, b2], lambda: (((x @ w1 + b1).tanh() @ w2 + b2 - y) ** 2).mean()


def soft_abs(lib, dtype):
    """``sqrt(1 + x^2)`` from far out: nearly linear, so the search extrapolates."""
    x = lib.tensor(np.array([40.0]), dtype=getattr(lib, dtype), requires_grad=True)
    return [x], lambda: (1 + x ** 2).sqrt().sum()


def run(lib, problem, steps, dtype="float64", **kwargs):
    """``steps`` calls of ``step(closure)``; returns (per-step records, every closure loss,
    optimizer, params, closure)."""
    params, loss_of = problem(lib, dtype)
    opt = lib.optim.LBFGS(params, line_search_fn="strong_wolfe", **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        losses.append(loss.item())
        return loss

    records = [_step(opt, closure, params) for _ in range(steps)]
    return records, losses, opt, params, closure


def _step(opt, closure, params):
    first = opt.step(closure)
    state = opt.state[params[0]]
    return {"first": first.item(), "counts": (state["func_evals"], state["n_iter"]),
            "params": [p.detach().numpy().copy() for p in params]}


def assert_same_run(expected, got, rtol, atol):
    for e, g in zip(expected, got, strict=True):
        assert g["counts"] == e["counts"]
        np.testing.assert_allclose(g["first"], e["first"], rtol=rtol, atol=atol)
        for p_e, p_g in zip(e["params"], g["params"], strict=True):
            assert p_g.dtype == p_e.dtype
            np.testing.assert_allclose(p_g, p_e, rtol=rtol, atol=atol)


CASES = [
    (rosenbrock([-1.2, 1.0]), {}),
    (rosenbrock([2.0, -1.5]), {"max_iter": 5, "history_size": 2}),
    (rosenbrock([0.0, 3.0]), {"lr": 0.3, "max_iter": 7}),
    (rosenbrock([-1.2, 1.0]), {"max_iter": 10, "max_eval": 4}),   # the search runs out
    (rosenbrock([-1.2, 1.0]), {"max_iter": 10, "max_eval": 1}),   # no search budget at all
    (rosenbrock([-1.2, 1.0]), {"tolerance_grad": 1e-2}),
    (rosenbrock([-1.2, 1.0]), {"tolerance_change": 1e-3}),
    (logistic_regression, {"max_iter": 6}),
    (logistic_regression, {"history_size": 1}),
    (mlp, {"max_iter": 8, "history_size": 4}),
    (mlp, {"lr": 0.5}),
    # far too long first guesses: long zooms, with the insufficient-progress rule
    (rosenbrock([0.5, -0.5]), {"lr": 100, "max_iter": 10}),
    (mlp, {"lr": 20}),
    # the budget runs out right after an extrapolation that went too far: the search must
    # choose between the start and that last point, not the one before it
    (soft_abs, {"lr": 8, "max_eval": 2, "max_iter": 10}),
    (rosenbrock([-1.2, 1.0]), {"lr": 2, "max_eval": 4, "max_iter": 10}),
]


@pytest.mark.parametrize("problem, kwargs", CASES)
def test_float64_run_matches_torch_call_by_call(problem, kwargs):
    expected, t_losses, _, _, _ = run(torch, problem, 4, **kwargs)
    got, m_losses, _, _, _ = run(mt, problem, 4, **kwargs)
    assert len(m_losses) == len(t_losses)   # the same closure calls, hence the same search
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-8, atol=1e-12)
    assert_same_run(expected, got, rtol=1e-8, atol=1e-11)
    if kwargs.get("max_eval") != 1:
        assert min(t_losses) < t_losses[0]   # the runs really descend
    # (with max_eval=1 the search may evaluate only the first guess, which overshoots here:
    # it keeps t = 0 and the run stays where it started, in torch too)


# the MLP's own forward pass already differs from torch's by an ulp (matmul summation order),
# which L-BFGS's iterations grow: one step of it stays within float32 rounding. The logistic
# loss's mean differs by an ulp too (torch's float32 sum order depends on the CPU's vector
# width): its second step reaches the minimum, where the search's stopping rule compares
# losses an ulp apart, so one step of it is what float32 can promise
@pytest.mark.parametrize("problem, kwargs, steps", [CASES[0] + (2,), CASES[2] + (2,),
                                                    CASES[7] + (1,), CASES[9] + (1,)])
def test_float32_run_matches_torch_to_float32_rounding(problem, kwargs, steps):
    expected, t_losses, _, _, _ = run(torch, problem, steps, "float32", **kwargs)
    got, m_losses, opt, params, _ = run(mt, problem, steps, "float32", **kwargs)
    assert len(m_losses) == len(t_losses)
    # an ulp of difference in a 0-d scalar (torch's 0-d sqrt is not correctly rounded; the
    # MLP's matmuls sum in another order) grows when the search extrapolates, so late trial
    # points agree to a few 1e-4 only; a wrong trial step would differ in the first digit
    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-2, atol=1e-6)
    assert_same_run(expected, got, rtol=1e-4, atol=1e-5)
    assert opt.state[params[0]]["d"].dtype == mt.float32


def test_the_search_takes_more_than_one_evaluation_per_iteration():
    # otherwise the tests above would not tell the search from the fixed step
    records, _, _, _, _ = run(mt, rosenbrock([-1.2, 1.0]), 1)
    func_evals, n_iter = records[0]["counts"]
    assert func_evals > n_iter + 1


def test_step_returns_the_first_loss_with_its_graph():
    for lib in (torch, mt):
        params, loss_of = mlp(lib, "float64")
        opt = lib.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=3)

        def closure():
            opt.zero_grad()
            loss = loss_of()
            loss.backward()
            return loss
        first = opt.step(closure)
        assert first.requires_grad and first.grad_fn is not None


def _state_items(opt):
    (state,) = opt.state_dict()["state"].values()
    return state, opt.state_dict()["param_groups"]


def test_state_matches_torch():
    _, _, t_opt, _, _ = run(torch, mlp, 2, max_iter=4, history_size=3)
    _, _, m_opt, _, _ = run(mt, mlp, 2, max_iter=4, history_size=3)
    t_state, t_groups = _state_items(t_opt)
    m_state, m_groups = _state_items(m_opt)
    assert list(m_state) == list(t_state)
    assert m_groups == t_groups
    for key, t_value in t_state.items():
        m_value = m_state[key]
        if key == "al":   # scratch space of the two-loop recursion
            continue
        if isinstance(t_value, list):
            assert len(m_value) == len(t_value)
            for a, b in zip(m_value, t_value):
                np.testing.assert_allclose(np.asarray(float(a) if np.ndim(b) == 0 else a.numpy()),
                                           b.numpy(), rtol=1e-9, atol=1e-12)
        else:
            to_np = lambda v: v.numpy() if hasattr(v, "numpy") else np.asarray(v)  # noqa: E731
            np.testing.assert_allclose(to_np(m_value), to_np(t_value), rtol=1e-9, atol=1e-12)


def test_state_dict_save_load_continues_like_torch(tmp_path):
    expected, _, _, _, _ = run(torch, logistic_regression, 4, max_iter=3)
    _, _, opt, params, _ = run(mt, logistic_regression, 2, max_iter=3)
    path = tmp_path / "lbfgs.h5"
    mt.save(opt.state_dict(), path)
    fresh = mt.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=3)
    fresh.load_state_dict(mt.load(path))
    x, y = logistic_data(mt, "float64")

    def closure():
        fresh.zero_grad()
        loss = logistic_loss(x, y, *params)
        loss.backward()
        return loss

    got = [_step(fresh, closure, params) for _ in range(2)]
    assert_same_run(expected[2:], got, rtol=1e-9, atol=1e-12)


def test_another_line_search_is_refused_by_step_as_torch_does():
    for lib in (torch, mt):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.LBFGS([x], line_search_fn="backtracking")   # accepted here, as torch

        def closure():
            opt.zero_grad()
            loss = (x ** 2).sum()
            loss.backward()
            return loss
        with pytest.raises(RuntimeError, match=r"^only 'strong_wolfe' is supported$"):
            opt.step(closure)
        assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 1


def g(value):
    return mt.tensor(value, dtype=mt.float64)


def test_cubic_interpolate_finds_a_quadratics_minimum():
    # f = (x - 1)^2 at x = 0 and x = 3 (slopes -2 and 4): the cubic through them is f itself
    assert float(cubic_interpolate(0.0, 1.0, g(-2.0), 3.0, 4.0, g(4.0))) == pytest.approx(1.0)
    # the same points given right to left
    assert float(cubic_interpolate(3.0, 4.0, g(4.0), 0.0, 1.0, g(-2.0))) == pytest.approx(1.0)


def test_cubic_interpolate_clips_to_bounds_and_falls_back_to_the_midpoint():
    # the minimum at 1 lies outside the bounds [2, 2.5]: the nearer bound
    out = cubic_interpolate(0.0, 1.0, g(-2.0), 3.0, 4.0, g(4.0), bounds=(2.0, 2.5))
    assert float(out) == 2.0
    # rising at both ends with f(1) - f(0) = 2/3: d1 = 1 + 1 - 3 (-2/3) / (-1) = 0 and
    # d1^2 - g1 g2 = -1 < 0, a cubic without a local minimum: the bounds' midpoint
    out = cubic_interpolate(0.0, 0.0, g(1.0), 1.0, 2.0 / 3.0, g(1.0), bounds=(0.0, 10.0))
    assert float(out) == 5.0


def _rosenbrock_line(lib):
    """``obj_func`` for the line search on Rosenbrock: loss and gradient at ``x + t d``."""
    def obj_func(x, t, d):
        p = (x + d * t).detach().requires_grad_()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        return loss.item(), p.grad
    return obj_func


@pytest.mark.parametrize("t0, tolerance_change, max_ls", [
    (1.0, 1e-9, 25), (30.0, 1e-9, 25),   # extrapolation; a long zoom
    (30.0, 1e-2, 25), (30.0, 10.0, 25),  # the zoom stops early on a small bracket
    (1e-4, 1e-9, 3), (30.0, 1e-9, 2),    # the budget runs out in either phase
])
def test_the_search_alone_matches_torchs(t0, tolerance_change, max_ls):
    from torch.optim.lbfgs import _strong_wolfe   # torch's own search, as the oracle
    from minitorch.optim._line_search import strong_wolfe
    results = []
    for lib, search in ((torch, _strong_wolfe), (mt, strong_wolfe)):
        x = lib.tensor([-1.2, 1.0], dtype=lib.float64)
        f, g = _rosenbrock_line(lib)(x, 0.0, lib.zeros(2, dtype=lib.float64))
        d = -g / g.abs().sum()
        f_new, g_new, t, evals = search(_rosenbrock_line(lib), x, t0, d, f, g, g.dot(d),
                                        tolerance_change=tolerance_change, max_ls=max_ls)
        results.append((f_new, g_new.numpy(), float(t), evals))
    (f_t, g_t, t_t, n_t), (f_m, g_m, t_m, n_m) = results
    assert n_m == n_t
    np.testing.assert_allclose([f_m, t_m], [f_t, t_t], rtol=1e-12)
    np.testing.assert_allclose(g_m, g_t, rtol=1e-12, atol=1e-12)
