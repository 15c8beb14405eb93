"""Adamax, NAdam, RAdam, Rprop and ASGD take torch.optim's steps: live in float64 over 60 steps
(parameters and every state entry), in float32 to float32 rounding, above the parallel kernel's
size, with autograd gradients, after a state_dict round trip, and with torch's errors."""
import numpy as np
import pytest

import minitorch as mt

from optim_cases import (OPTIM_CASES_MORE, STATE_KEYS, final_state, make_inputs,
                         run_optimizer)
from parity_helpers import assert_float32_matches_torch, train_two_params

torch = pytest.importorskip("torch")

TOL = 1e-9
KINDS = ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD"]


def test_every_new_optimizer_and_mode_is_covered():
    assert {case["type"] for case in OPTIM_CASES_MORE.values()} == set(KINDS)
    flags = {k for case in OPTIM_CASES_MORE.values() for k, v in case["defaults"].items() if v}
    assert {"maximize", "weight_decay", "decoupled_weight_decay", "momentum_decay", "betas",
            "etas", "step_sizes", "t0", "lambd", "alpha", "eps"} <= flags


@pytest.mark.parametrize("name", list(OPTIM_CASES_MORE))
def test_trajectory_and_state_match_live_torch(name):
    case = OPTIM_CASES_MORE[name]
    init, grads = make_inputs(seed=300)
    t_params, t_opt, expected = run_optimizer(torch, case, init, grads)
    m_params, m_opt, traj = run_optimizer(mt, case, init, grads)
    for i in range(len(init)):
        assert np.abs(traj[i][-1] - init[i]).max() > 1e-3   # the run really moves
        np.testing.assert_allclose(traj[i], expected[i], rtol=0, atol=TOL,
                                   err_msg=f"{name}: parameter {i}")
    got = final_state(m_opt, m_params, case["type"])
    want = final_state(t_opt, t_params, case["type"])
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, atol=TOL, err_msg=str(key))
    for p_t, p_m in zip(t_params, m_params):   # the same state entries, in torch's order
        assert list(m_opt.state[p_m]) == list(t_opt.state[p_t])
        for key, value in t_opt.state[p_t].items():
            assert str(m_opt.state[p_m][key].dtype) == str(value.dtype).replace("torch", "minitorch")


@pytest.mark.parametrize("name", ["adamax_l2_maximize", "nadam_decoupled",
                                  "radam_l2_maximize_short", "rprop_bounds_maximize",
                                  "asgd_averaging_l2"])
def test_float32_matches_live_torch_to_float32_rounding(name):
    assert_float32_matches_torch(torch, mt, OPTIM_CASES_MORE[name], seed=11)


@pytest.mark.parametrize("kind", KINDS)
def test_large_parameter_parallel_kernel_matches_live_torch(kind):
    rng = np.random.default_rng(6)
    w0 = rng.standard_normal((100, 200))
    grads = rng.standard_normal((8, 100, 200))
    out = []
    for lib in (torch, mt):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = getattr(lib.optim, kind)([w], lr=0.01)
        for g in grads:
            w.grad = lib.tensor(g.copy())
            opt.step()
        out.append(w.detach().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_training_with_autograd_gradients_matches_live_torch(kind):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((32, 6))
    y = rng.integers(0, 3, 32)
    w0, b0 = rng.standard_normal((6, 3)) * 0.1, np.zeros(3)

    def run(lib):
        return train_two_params(
            lib, lambda w, b: getattr(lib.optim, kind)([{"params": [w]},
                                                        {"params": [b], "lr": 0.005}], lr=0.02),
            lambda lib, out, y: lib.nn.CrossEntropyLoss()(out, y), x, y, w0, b0, 25)
    expected, got = run(torch), run(mt)
    assert expected[0][-1] < expected[0][0]
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["nadam", "radam", "rprop", "asgd_averaging_l2", "adamax"])
def test_resuming_from_state_dict_continues_the_run(name):
    """20 steps, a state_dict into a fresh optimizer, 40 more: the uninterrupted run's numbers."""
    case = OPTIM_CASES_MORE[name]
    init, grads = make_inputs(seed=301)
    _, _, whole = run_optimizer(mt, case, init, grads)
    params, opt, _ = run_optimizer(mt, case, init, grads, steps=20)
    saved = opt.state_dict()
    fresh = type(opt)(params, **case["defaults"])
    fresh.load_state_dict(saved)
    _, _, rest = run_optimizer(mt, case, init, grads, steps=40, optimizer=fresh, params=params,
                               start=20)
    for i in range(len(init)):
        np.testing.assert_array_equal(rest[i], whole[i][20:])


@pytest.mark.parametrize("kind, kwargs", [
    ("Adamax", {"lr": -1}), ("Adamax", {"betas": (1.0, 0.9)}), ("NAdam", {"eps": -1}),
    ("NAdam", {"momentum_decay": -0.1}), ("RAdam", {"weight_decay": -1}),
    ("RAdam", {"betas": (0.9, 1.5)}), ("Rprop", {"etas": (1.5, 2.0)}),
    ("Rprop", {"etas": (0.5, 0.9)}), ("Rprop", {"lr": -0.1}), ("ASGD", {"lr": -1}),
    ("ASGD", {"weight_decay": -1}),
])
def test_bad_hyperparameters_raise_torch_errors(kind, kwargs):
    with pytest.raises(ValueError) as expected:
        getattr(torch.optim, kind)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as got:
        getattr(mt.optim, kind)([mt.zeros(2, requires_grad=True)], **kwargs)
    assert str(got.value) == str(expected.value)


def test_state_keys_cover_what_torch_keeps():
    for kind in KINDS:
        w = torch.zeros(3, requires_grad=True)
        opt = getattr(torch.optim, kind)([w])
        w.grad = torch.ones(3)
        opt.step()
        assert set(opt.state[w]) == set(STATE_KEYS[kind]) | {"step"}, kind
