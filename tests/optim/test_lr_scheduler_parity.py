"""Every scheduler produces torch.optim.lr_scheduler's lr sequence over 30 epochs."""
import os

import h5py
import numpy as np
import pytest

import minitorch as mt

from optim_cases import EPOCHS, SCHED_CASES, run_scheduler

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
