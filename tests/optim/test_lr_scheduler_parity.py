"""Every scheduler produces torch.optim.lr_scheduler's lr sequence over 30 epochs."""
import os

import h5py
import numpy as np
import pytest

import minitorch as mt

from optim_cases import EPOCHS, SCHED_CASES, SCHED_CASES_MORE, run_scheduler

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optim_sgd.h5")


@pytest.mark.parametrize("name", list(SCHED_CASES))
def test_lr_sequence_matches_torch_fixture(name):
    with h5py.File(FIXTURE, "r") as f:
        expected = f[f"sched/{name}/lrs"][()]
    lrs = run_scheduler(mt, SCHED_CASES[name])
    assert lrs.shape == (EPOCHS + 1, 2) == expected.shape
    # Same formulas in the same order: equal to the last bit, not merely close.
    np.testing.assert_array_equal(lrs, expected)


@pytest.mark.parametrize("name", list(SCHED_CASES))
def test_lr_sequence_matches_live_torch(name):
    torch = pytest.importorskip("torch")
    expected = run_scheduler(torch, SCHED_CASES[name])
    np.testing.assert_array_equal(run_scheduler(mt, SCHED_CASES[name]), expected)


def test_cosine_resumed_with_last_epoch_matches_live_torch():
    """A scheduler built with last_epoch > 0 (resume without a state dict) starts from the
    closed form, then recurses; torch does the same."""
    torch = pytest.importorskip("torch")

    def lrs(lib):
        p = lib.tensor(np.zeros(1), requires_grad=True)
        opt = lib.optim.SGD([{"params": [p], "lr": 0.05, "initial_lr": 0.1}], lr=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.0,
                                                        last_epoch=4)
        out = [opt.param_groups[0]["lr"]]
        for _ in range(15):
            opt.step()
            sched.step()
            out.append(opt.param_groups[0]["lr"])
        return out

    assert lrs(mt) == lrs(torch)


ADAPTIVE_FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures",
                                "optim_adaptive.h5")


@pytest.mark.parametrize("name", list(SCHED_CASES_MORE))
def test_new_schedules_match_torch_fixture_bitwise(name):
    with h5py.File(ADAPTIVE_FIXTURE, "r") as f:
        expected = f[f"sched/{name}/lrs"][()]
        expected_momentum = f[f"sched/{name}/momentum"][()]
    lrs, momentum = run_scheduler(mt, SCHED_CASES_MORE[name], with_momentum=True)
    assert lrs.shape == (EPOCHS + 1, 2) == expected.shape
    assert len(np.unique(lrs)) > 2  # the schedule really changes the lr
    np.testing.assert_array_equal(lrs, expected)
    np.testing.assert_array_equal(momentum, expected_momentum)  # OneCycleLR's momentum/beta1


@pytest.mark.parametrize("name", list(SCHED_CASES_MORE))
def test_new_schedules_match_live_torch_bitwise(name):
    torch = pytest.importorskip("torch")
    expected = run_scheduler(torch, SCHED_CASES_MORE[name], with_momentum=True)
    got = run_scheduler(mt, SCHED_CASES_MORE[name], with_momentum=True)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("kind,kwargs", [
    ("ExponentialLR", {"gamma": 0.8}), ("PolynomialLR", {"total_iters": 6, "power": 0.5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2})])
def test_resumed_with_last_epoch_matches_live_torch(kind, kwargs):
    torch = pytest.importorskip("torch")

    def lrs(lib):
        p = lib.tensor(np.zeros(1), requires_grad=True)
        opt = lib.optim.SGD([{"params": [p], "lr": 0.05, "initial_lr": 0.1}], lr=0.1)
        sched = getattr(lib.optim.lr_scheduler, kind)(opt, last_epoch=3, **kwargs)
        out = [opt.param_groups[0]["lr"]]
        for _ in range(12):
            opt.step()
            sched.step()
            out.append(opt.param_groups[0]["lr"])
        return out

    assert lrs(mt) == lrs(torch)


def test_onecycle_stepped_past_total_steps_raises_like_torch():
    p = mt.tensor(np.zeros(1), requires_grad=True)
    opt = mt.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = mt.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of "
                                         "total steps is 3"):
        sched.step()
