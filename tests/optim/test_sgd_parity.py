"""SGD takes the same steps as torch.optim.SGD: against the committed fixture, and live."""
import os

import numpy as np
import pytest

import minitorch as mt

from optim_cases import SGD_CASES, STEPS, make_inputs, run_sgd
from parity_helpers import assert_float32_matches_torch, read_fixture_case, train_two_params

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optim_sgd.h5")
TOL = 1e-9  # float64 parity; in practice the gap is a few ulps


@pytest.mark.parametrize("name", list(SGD_CASES))
def test_trajectory_matches_torch_fixture_step_for_step(name):
    init, grads, expected, expected_bufs = read_fixture_case(FIXTURE, f"sgd/{name}",
                                                             ("momentum_buffer",))
    params, optimizer, traj = run_sgd(mt, SGD_CASES[name], init, grads)
    assert STEPS >= 50
    for i in range(len(params)):
        assert params[i].dtype == mt.float64
        np.testing.assert_allclose(traj[i], expected[i], rtol=0, atol=TOL,
                                   err_msg=f"{name}: parameter {i}")
    # Momentum state too: the same parameters carry a buffer, with the same values.
    bufs = {(i, "momentum_buffer"): optimizer.state[p]["momentum_buffer"].numpy()
            for i, p in enumerate(params) if p in optimizer.state}
    assert sorted(bufs) == sorted(expected_bufs)
    for key, buf in bufs.items():
        np.testing.assert_allclose(buf, expected_bufs[key], rtol=0, atol=TOL)


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
    assert_float32_matches_torch(torch, mt, SGD_CASES[name], seed=7)


def train_regression(lib, x, y, w0, b0, steps=30):
    """Least squares trained with autograd gradients: the optimizer sees real .grad tensors
    (made by backward, whatever their memory layout), not hand-set ones."""
    def make_optimizer(w, b):
        return lib.optim.SGD([{"params": [w], "weight_decay": 0.01},
                              {"params": [b], "lr": 0.02}], lr=0.05, momentum=0.9, nesterov=True)
    return train_two_params(lib, make_optimizer, lambda lib, out, y: ((out - y) ** 2).mean(),
                            x, y, w0, b0, steps)


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
