"""Adam, AdamW, RMSprop, Adagrad and Adadelta take torch.optim's steps: against the committed
fixture (no torch needed), live in float64 over 60 steps, and in float32 to float32 rounding."""
import os

import numpy as np
import pytest

import minitorch as mt

from optim_cases import OPTIM_CASES, STATE_KEYS, STEPS, final_state, make_inputs, run_optimizer
from parity_helpers import assert_float32_matches_torch, read_fixture_case, train_two_params

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optim_adaptive.h5")
TOL = 1e-9  # float64 parity; in practice a few ulps (PyTorch's vector lerp uses an FMA)


def test_every_optimizer_and_mode_is_covered():
    kinds = {case["type"] for case in OPTIM_CASES.values()}
    assert kinds == {"Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"}
    flags = {k for case in OPTIM_CASES.values() for k, v in case["defaults"].items() if v}
    assert {"amsgrad", "maximize", "weight_decay", "momentum", "centered", "lr_decay",
            "initial_accumulator_value", "rho", "alpha", "betas"} <= flags


@pytest.mark.parametrize("name", list(OPTIM_CASES))
def test_trajectory_and_state_match_torch_fixture(name):
    init, grads, expected, expected_state = read_fixture_case(
        FIXTURE, f"optim/{name}", STATE_KEYS[OPTIM_CASES[name]["type"]] + ("step",))
    params, optimizer, traj = run_optimizer(mt, OPTIM_CASES[name], init, grads)
    assert STEPS >= 50
    for i in range(len(params)):
        assert params[i].dtype == mt.float64
        # The run must really move: a no-op optimizer would fail this before the parity check.
        assert np.abs(traj[i][-1] - init[i]).max() > 1e-3
        np.testing.assert_allclose(traj[i], expected[i], rtol=0, atol=TOL,
                                   err_msg=f"{name}: parameter {i}")
    state = final_state(optimizer, params, OPTIM_CASES[name]["type"])
    assert sorted(state) == sorted(expected_state)  # same buffers, same step counts
    for key, value in state.items():
        np.testing.assert_allclose(value, expected_state[key], rtol=1e-12, atol=TOL,
                                   err_msg=f"{name}: {key}")


@pytest.mark.parametrize("name", list(OPTIM_CASES))
def test_trajectory_matches_live_torch(name):
    torch = pytest.importorskip("torch")
    init, grads = make_inputs(seed=200)
    t_params, t_opt, expected = run_optimizer(torch, OPTIM_CASES[name], init, grads)
    m_params, m_opt, traj = run_optimizer(mt, OPTIM_CASES[name], init, grads)
    for i in range(len(init)):
        np.testing.assert_allclose(traj[i], expected[i], rtol=0, atol=TOL)
    kind = OPTIM_CASES[name]["type"]
    assert sorted(final_state(m_opt, m_params, kind)) == sorted(final_state(t_opt, t_params,
                                                                            kind))


@pytest.mark.parametrize("name", ["adam_amsgrad_l2", "adamw_amsgrad_groups",
                                  "rmsprop_centered_momentum_max", "adagrad_decay_init",
                                  "adadelta_rho_l2"])
def test_float32_matches_live_torch_to_float32_rounding(name):
    torch = pytest.importorskip("torch")
    m_params, m_opt = assert_float32_matches_torch(torch, mt, OPTIM_CASES[name], seed=9)
    for p in m_params:  # the buffers stay in the parameter's dtype, step is float32 as torch's
        for key, value in m_opt.state[p].items():
            assert value.dtype == mt.float32, key


@pytest.mark.parametrize("kind", ["Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_large_parameter_parallel_kernel_matches_live_torch(kind):
    """Above SERIAL_BELOW elements the parallel kernel runs; its numbers are torch's too."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    w0 = rng.standard_normal((100, 200))
    grads = rng.standard_normal((8, 100, 200))
    out = []
    for lib in (torch, mt):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = getattr(lib.optim, kind)([w], lr=0.01, weight_decay=0.01)
        for g in grads:
            w.grad = lib.tensor(g.copy())
            opt.step()
        out.append(w.detach().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=0, atol=1e-12)


def train_classifier(lib, kind, x, y, w0, b0, steps=25):
    """A softmax regression trained with autograd gradients (real .grad tensors)."""
    def make_optimizer(w, b):
        return getattr(lib.optim, kind)([{"params": [w]}, {"params": [b], "lr": 0.005}],
                                        lr=0.02)
    return train_two_params(lib, make_optimizer,
                            lambda lib, out, y: lib.nn.CrossEntropyLoss()(out, y),
                            x, y, w0, b0, steps)


@pytest.mark.parametrize("kind", ["Adam", "AdamW", "RMSprop", "Adagrad"])
def test_training_with_autograd_gradients_matches_live_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 6))
    y = rng.integers(0, 3, 32)
    w0, b0 = rng.standard_normal((6, 3)) * 0.1, np.zeros(3)
    expected = train_classifier(torch, kind, x, y, w0, b0)
    got = train_classifier(mt, kind, x, y, w0, b0)
    assert expected[0][-1] < expected[0][0]
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
