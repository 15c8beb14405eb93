"""SIGINT and SIGTERM at any moment end a run cleanly: exit code 130 or 143, one
``interrupted`` line, every file whole, and ``--resume auto`` then finishes with exactly the
bits of a run never interrupted (every epoch once in metrics.jsonl). Never swallowed: a signal
inside a checkpoint write still stops the run (right after the write)."""
import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.hostile.run_helpers import (assert_one_line, finetune, finish, run, running, start,
                                       tiny_config)
from tests.train.helpers import assert_bitwise_equal, checkpoint_arrays

WORKER = Path(__file__).resolve().parent / "worker_signal.py"
EPOCHS = 2
_SECONDS = [0.0]   # the reference run's duration after its handlers were installed


def _config(tmp_path, out):
    # Everything trains and augmentation draws random numbers: all the state of an exact resume.
    return tiny_config(tmp_path, out, f"config_{out.name}.yaml", epochs=EPOCHS,
                       data={"augment": {"random_crop": True, "padding": 1}})


def _handlers_installed(pid):
    """True once the process catches SIGTERM (its handlers are in place): /proc's SigCgt."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True   # gone already
    caught = int(next(line.split()[1] for line in status.splitlines()
                      if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def _start_and_wait_for_handlers(config):
    """Start a run; return (proc, files) once its signal handlers are installed."""
    proc, files = start(["-m", "minitorch.train.cli", config])
    while running(proc) and not _handlers_installed(proc.pid):
        time.sleep(0.01)
    return proc, files


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, and how long it ran after installing its handlers (so the random
    moments below spread over construction, training and writing on a machine of any speed)."""
    tmp = tmp_path_factory.mktemp("reference")
    out = tmp / "ref"
    proc, files = _start_and_wait_for_handlers(_config(tmp, out))
    began = time.monotonic()
    result = finish(proc, files)
    assert result.returncode == 0, result
    _SECONDS[0] = time.monotonic() - began
    return out


def _epochs(out):
    return [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text()
            .splitlines()]


def _check_interrupted_then_resume(result, signum, tmp_path, out, reference):
    if result.returncode == -signum:
        # Only after the run was done (handlers restored, the interpreter exiting).
        assert "best val_acc" in result.stdout, result
    elif result.returncode != 0:   # (0: the run had finished when the signal came)
        line = assert_one_line(result, code=128 + signum,
                               prefix=f"interrupted by {signal.Signals(signum).name}")
        assert "Traceback" not in result.stderr, line
    resumed = finetune(_config(tmp_path, out), "--resume", "auto")
    assert resumed.returncode == 0, resumed
    assert _epochs(out) == list(range(1, EPOCHS + 1))
    assert_bitwise_equal(checkpoint_arrays(out / "last.h5"),
                         checkpoint_arrays(reference / "last.h5"))


@pytest.mark.parametrize("signame, point, k", [
    ("SIGINT", "save", 1),    # inside the first last.h5 write: the write completes, then stop
    ("SIGTERM", "step", 3),   # between backward and step, in epoch 1
])
def test_signal_at_a_chosen_moment_stops_cleanly_and_resumes_exactly(tmp_path, reference,
                                                                     signame, point, k):
    out = tmp_path / "run"
    result = run([WORKER, signame, point, k, _config(tmp_path, out)])
    signum = getattr(signal, signame)
    assert result.returncode == 128 + signum, result
    if point == "save":   # not swallowed, and the epoch being saved is whole
        assert _epochs(out) == [1]
    _check_interrupted_then_resume(result, signum, tmp_path, out, reference)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_signal_at_a_random_moment_stops_cleanly_and_resumes_exactly(tmp_path, reference, seed):
    rng = random.Random(seed)
    signum = (signal.SIGINT, signal.SIGTERM)[seed % 2]
    out = tmp_path / "run"
    proc, files = _start_and_wait_for_handlers(_config(tmp_path, out))
    # Anywhere in construction, training or writing (or just after the end).
    time.sleep(rng.uniform(0.0, 1.05) * _SECONDS[0])
    if running(proc):
        proc.send_signal(signum)
    _check_interrupted_then_resume(finish(proc, files), signum, tmp_path, out, reference)
