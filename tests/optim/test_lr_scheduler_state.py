"""Scheduler bookkeeping: initial_lr, get_last_lr, state_dict resume, and bad arguments."""
import copy

import numpy as np
import pytest

import minitorch as mt
from minitorch import optim
from minitorch.optim import lr_scheduler

from optim_cases import SCHED_CASES, build_scheduler


def make_optimizer(lrs=(0.1, 0.02)):
    return optim.SGD([{"params": [mt.tensor(np.zeros(2), requires_grad=True)], "lr": lr}
                      for lr in lrs], lr=1.0, momentum=0.9)


def test_construction_records_initial_lr_and_base_lrs():
    opt = make_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=3)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert sched.base_lrs == [0.1, 0.02]
    assert sched.last_epoch == 0
    assert sched.get_last_lr() == [0.1, 0.02]


def test_linear_warmup_starts_at_start_factor_and_reaches_base_lr():
    opt = make_optimizer((0.5,))
    sched = lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=4)
    seen = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(seen, [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5], rtol=1e-12)


@pytest.mark.parametrize("name", list(SCHED_CASES))
def test_resume_from_state_dict_continues_the_same_lrs(name):
    """Save the optimizer and scheduler at epoch 11, rebuild both fresh, load, continue: the lrs
    are identical to the uninterrupted run's."""
    spec = SCHED_CASES[name]
    opt = make_optimizer()
    sched = build_scheduler(mt, opt, spec)
    uninterrupted = []
    saved = None
    for epoch in range(1, 25):
        opt.step()
        sched.step()
        uninterrupted.append(sched.get_last_lr())
        if epoch == 11:
            saved = copy.deepcopy((opt.state_dict(), sched.state_dict()))

    opt2 = make_optimizer()
    sched2 = build_scheduler(mt, opt2, spec)  # scheduler first, then the optimizer's state
    opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    resumed = []
    for _ in range(12, 25):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    assert resumed == uninterrupted[11:]


def test_state_dict_holds_plain_values_only():
    """A checkpoint stores numbers, strings, lists and dicts: no optimizer, no Counter."""
    opt = make_optimizer()
    sched = lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, total_iters=2),
                                            lr_scheduler.MultiStepLR(opt, [3, 3, 6])], [2])
    state = sched.state_dict()
    assert "optimizer" not in state
    assert type(state["_schedulers"][1]["milestones"]) is dict
    assert state["_schedulers"][1]["milestones"] == {3: 2, 6: 1}

    def check(value):
        if isinstance(value, dict):
            assert all(isinstance(k, (str, int)) for k in value)
            for v in value.values():
                check(v)
        elif isinstance(value, list):
            for v in value:
                check(v)
        else:
            assert value is None or isinstance(value, (bool, int, float, str)), value

    check(state)


@pytest.mark.parametrize("make,culprit", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), "step_size 2.5"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, -1]), "milestone -1"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max 0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), "start_factor 0.0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), "end_factor 1.5"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), "total_iters 0"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), "expected 2 lr_lambdas"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), "milestones"),
])
def test_bad_scheduler_argument_is_a_value_error_naming_it(make, culprit):
    with pytest.raises(ValueError, match=culprit):
        make(make_optimizer())


def test_sequential_rejects_a_scheduler_of_another_optimizer():
    opt, other = make_optimizer(), make_optimizer()
    with pytest.raises(ValueError, match="scheduler 1 \\(StepLR\\) belongs to a different"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt),
                                        lr_scheduler.StepLR(other, 2)], [3])


def test_scheduler_needs_an_optimizer_and_initial_lr_to_resume():
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=5)
