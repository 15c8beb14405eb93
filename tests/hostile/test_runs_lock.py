"""One run per output folder: a second run is refused in one line naming the holder's pid and
changes nothing; the lock is gone when a run ends; start-up clean-up removes only temporaries
whose writer is dead."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from minitorch.train.run_lock import (LOCK_NAME, RunLock, RunLockedError,
                                      remove_stale_temporaries)
from tests.hostile.run_helpers import (assert_refused, finetune, finish, folder_digest, running,
                                       start, tiny_config)


def _dead_pid():
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_lock_names_the_holder_and_release_removes_the_file(tmp_path):
    first = RunLock(tmp_path)
    first.acquire()
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
    with pytest.raises(RunLockedError, match=f"pid {os.getpid()}"):
        RunLock(tmp_path).acquire()   # another open file description: flock refuses it
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    with RunLock(tmp_path) as again:   # free again
        assert again.held


def test_clean_up_touches_only_dead_writers_temporaries(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    names = {f".last.h5.tmp-{dead}-0a1b2c3d": False,      # dead writer: removed
             f".metrics.jsonl.tmp-{dead}-ffff0000": False,
             f".best.h5.tmp-{alive}-0a1b2c3d": True,       # a live process's: kept
             f".last.h5.tmp-{os.getpid()}-12345678": True,  # this process's own: kept
             ".last.h5.tmp": True,                          # not a writer-named temporary
             "notes.txt": True}
    for name in names:
        (tmp_path / name).write_text("x")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(n for n, keep in names.items() if not keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, k in names.items() if k)


def test_second_run_in_a_held_folder_is_one_line_and_changes_nothing(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)   # a finished 1-epoch run of the tiny job
    config = tiny_config(tmp_path, out, epochs=1)
    assert not (out / LOCK_NAME).exists()   # released at the end of the run
    # A live in-flight temporary of the holder must survive the second run's start-up.
    (out / f".last.h5.tmp-{os.getpid()}-0a1b2c3d").write_bytes(b"half")
    with RunLock(out):
        before = folder_digest(out)
        for args in ([], ["--resume", "auto"]):
            assert_refused(finetune(config, *args), out, before,
                           contains=(f"pid {os.getpid()}", "in use by another run"))


def _holder(out):
    path = out / LOCK_NAME
    return path.read_text().strip() if path.exists() else ""


def test_two_real_runs_in_one_folder_one_is_refused(tmp_path):
    out = tmp_path / "out"
    config = tiny_config(tmp_path, out, epochs=2)
    first = start(["-m", "minitorch.train.cli", config])
    while running(first[0]) and not _holder(out):   # until the first run holds the lock
        time.sleep(0.01)
    assert _holder(out) == str(first[0].pid), "the first run ended without taking the lock"
    # Paused, the first run keeps its lock for as long as the second one tries (a tiny run
    # could otherwise finish while the second is still importing).
    os.kill(first[0].pid, signal.SIGSTOP)
    try:
        second = finetune(config)
    finally:
        os.kill(first[0].pid, signal.SIGCONT)
    result = finish(*first)
    assert result.returncode == 0, result
    assert second.returncode == 2, second
    assert f"pid {first[0].pid}" in second.stderr
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text()
              .splitlines()]
    assert epochs == [1, 2]   # every epoch once: the second run wrote nothing
    shutil.rmtree(out)
