"""Every scheduler produces torch.optim.lr_scheduler's lr sequence over 30 epochs."""
import os

import h5py
import numpy as np
import pytest

import minitorch as mt

from optim_cases import EPOCHS, SCHED_CASES, SCHED_CASES_LIVE, SCHED_CASES_MORE, run_scheduler

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


@pytest.mark.parametrize("name", list(SCHED_CASES_LIVE))
def test_constant_multiplicative_chained_cyclic_match_live_torch_bitwise(name):
    torch = pytest.importorskip("torch")
    expected, expected_momentum = run_scheduler(torch, SCHED_CASES_LIVE[name], with_momentum=True)
    lrs, momentum = run_scheduler(mt, SCHED_CASES_LIVE[name], with_momentum=True)
    assert len(set(map(tuple, expected))) >= 2   # the schedule really moves
    np.testing.assert_array_equal(lrs, expected)
    np.testing.assert_array_equal(momentum, expected_momentum)


@pytest.mark.parametrize("name", ["cyclic_triangular2_groups", "chained_constant_exponential",
                                  "multiplicative", "constant"])
def test_resumed_from_state_dict_continues_bitwise(name):
    """12 epochs, state dicts into a fresh optimizer and scheduler, 18 more: the whole run's lrs."""
    from optim_cases import build_scheduler, scheduled_optimizer, step_scheduler
    spec = SCHED_CASES_LIVE[name]
    whole = run_scheduler(mt, spec)
    opt = scheduled_optimizer(mt, spec)
    sched = build_scheduler(mt, opt, spec)
    for epoch in range(1, 13):
        opt.step()
        step_scheduler(sched, spec, epoch)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt2 = scheduled_optimizer(mt, spec)
    sched2 = build_scheduler(mt, opt2, spec)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    for epoch in range(13, EPOCHS + 1):
        opt2.step()
        step_scheduler(sched2, spec, epoch)
        assert [g["lr"] for g in opt2.param_groups] == list(whole[epoch]), epoch


@pytest.mark.parametrize("build", [
    lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=1.5),
    lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, [lambda e: 1.0] * 3),
    lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, 0.5),
    lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler([]),
    lambda lib, opt: lib.optim.lr_scheduler.ChainedScheduler(
        [lib.optim.lr_scheduler.ReduceLROnPlateau(opt)]),
    lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="zigzag"),
    lambda lib, opt: lib.optim.lr_scheduler.CyclicLR(
        lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), 0.01, 0.1),
])
def test_bad_arguments_raise_torch_errors(build):
    torch = pytest.importorskip("torch")
    errors = []
    for lib in (torch, mt):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        with pytest.raises((ValueError, TypeError)) as info:
            build(lib, opt)
        errors.append((type(info.value), str(info.value)))
    assert errors[1] == errors[0]
