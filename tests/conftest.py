"""The test session runs with the process settings minitorch's CLI and Trainer use.

``import minitorch`` tunes nothing; ``minitorch.runtime.configure()`` does (BLAS one thread per
call with minitorch's own product pool, idle OpenMP threads spinning only briefly before they
sleep, glibc keeping freed blocks). It has to come before numba starts its thread pool, so here,
before any test: with libgomp's default spin a tiny convolution took 200 ms instead of 3 on this
shared machine. Subprocesses started by tests inherit the OpenMP setting through the
environment.

Under pytest-xdist (``python -m pytest -n 2``) each worker is a process of its own that runs
this file too; see ``tests/_xdist.py`` for what is done once and what stays on one worker.
"""
import os
import sys

import pytest

import minitorch
import minitorch.runtime
from tests import _xdist

minitorch.runtime.configure()

# A run of this many tests or more is a whole-suite run (CI's is ~3,400).
WHOLE_SUITE = 1000


@pytest.fixture(autouse=True)
def _same_random_state_in_every_test():
    """Each test starts from the same random state whichever tests ran before it on its worker:
    a reference layer built in torch draws its weights from torch's global generator, and under
    xdist the tests before it differ from run to run (an unseeded RNN once drew weights whose
    outputs reached 200, past a fixed tolerance)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(0)
    minitorch.manual_seed(0)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    _xdist.group_by_shared_fixtures(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    _xdist.mark_groups(config, items)


def pytest_collection_finish(session):
    """On a cold numba cache (CI's fresh clone) a whole-suite run first compiles the float32
    training kernels in two processes, as ``minitorch-finetune`` does: about 75 s of one core's
    compiling, which the tests would otherwise do one kernel at a time. Under xdist the first
    worker here compiles while the others wait for it (they would compile the same kernels).
    A warm cache costs a few file checks; a run of a few files compiles only what it reaches."""
    if (len(session.items) >= WHOLE_SUITE and not session.config.option.collectonly
            and os.environ.get("NUMBA_DISABLE_JIT", "0") == "0"):
        with _xdist.one_worker_at_a_time(session.config, "precompile"):
            minitorch.runtime.compile_if_cold(processes=2)
