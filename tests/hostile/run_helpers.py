"""Hostile runs of ``minitorch-finetune`` in subprocesses: exit code, stderr, peak memory and the
output folder before and after.

Runs use the digits job with tiny settings (a width-4 small ResNet-18 on 8x8 images, 1-2
epochs), so each subprocess takes a few seconds, most of it importing.
"""
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.train.helpers import REPO, _thread_env, config_dict, write_config

# A refused run may use at most this much more memory than an ordinary tiny run (baseline_mb).
MEMORY_BOUND_MB = 300


def tiny_config(tmp_path, out, name="config.yaml", epochs=2, **sections):
    """A tiny digits config file (sections update the defaults of ``config_dict``)."""
    train = {"epochs": epochs, "optimizer": {"lr": 0.05, "momentum": 0.9},
             "scheduler": {"name": "cosine"}, "feature_cache": "off"}
    train.update(sections.pop("train", {}))
    data = {"classes": [5, 6], "batch_size": 128, **sections.pop("data", {})}
    model = {"num_classes": 2, **sections.pop("model", {})}
    cfg = config_dict(out, train=train, data=data, model=model, **sections)
    return write_config(Path(tmp_path) / name, cfg)


class Result:
    """What a finished subprocess left: returncode, stdout, stderr, peak RSS in MB."""

    def __init__(self, returncode, stdout, stderr, peak_mb):
        self.returncode, self.stdout, self.stderr, self.peak_mb = (returncode, stdout, stderr,
                                                                   peak_mb)

    def __repr__(self):
        return (f"Result(returncode={self.returncode}, peak_mb={self.peak_mb:.0f}, "
                f"stderr={self.stderr[-2000:]!r})")


def environment(extra=None):
    """This process's environment, the worktree first on the path and the same thread counts
    (a subprocess must compute the same bits as a reference run)."""
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **_thread_env(), **(extra or {})}


# Linux counts the RSS a child shared with its parent at exec in the child's ``ru_maxrss`` (the
# parent's high-water mark moves into the child's at exec), so ``wait4`` of a tiny run started
# from a pytest worker that has grown to 1 GB reports 1 GB. A run therefore reports its own
# peak: the high-water mark of its own address space (VmHWM) and of its children, written at
# exit to the file named by _PEAK_FILE (read, then dropped from the environment, first).
_OWN_PEAK = """
import atexit, os, resource, runpy, sys
path = os.environ.pop("_PEAK_FILE")
def report():
    with open("/proc/self/status") as f:
        own = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(path, "w") as f:
        f.write(str(max(own, kids)))
atexit.register(report)
flag, rest = sys.argv[1], sys.argv[2:]
if flag == "-m":
    sys.argv = rest
    runpy.run_module(rest[0], run_name="__main__", alter_sys=True)
elif flag == "-c":
    sys.argv = ["-c", *rest[1:]]
    exec(compile(rest[0], "<string>", "exec"), {"__name__": "__main__"})
else:
    sys.argv = [flag, *rest]
    sys.path[0] = os.path.dirname(os.path.abspath(flag))
    runpy.run_path(flag, run_name="__main__")
"""


def own_peak_mb():
    """This process's own peak RSS in MB (VmHWM: not the parent's mark it inherited at exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def start(args, preexec_fn=None, env=None, cwd=REPO):
    """Popen ``python args...`` with stdout/stderr in temporary files; returns (proc, files).
    This is the one place the hostile tests start a process (``helpers.run`` too). The process
    is the run itself (signals reach it), started through ``_OWN_PEAK`` so it reports its peak."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    fd, peak_file = tempfile.mkstemp(suffix=".peak")
    os.close(fd)
    proc = subprocess.Popen([sys.executable, "-c", _OWN_PEAK, *map(str, args)], stdout=out,
                            stderr=err, cwd=cwd, env=environment({**(env or {}),
                                                                   "_PEAK_FILE": peak_file}),
                            preexec_fn=preexec_fn)
    proc.peak_file = peak_file
    return proc, (out, err)


def running(proc):
    """Is ``proc`` still running? (without reaping it: ``finish`` needs its rusage)"""
    info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is None


def finish(proc, files, timeout=300):
    """Wait for ``proc`` (killing it after ``timeout`` s) and collect a ``Result`` with the peak
    memory it reported."""
    import signal
    import threading
    timer = threading.Timer(timeout, lambda: proc.send_signal(signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    texts = []
    for f in files:   # bytes: a hostile input echoed on stderr need not be valid UTF-8
        f.seek(0)
        texts.append(f.read().decode(errors="replace"))
        f.close()
    return Result(proc.returncode, texts[0], texts[1], _reported_peak_kb(proc, usage) / 1024)


def _reported_peak_kb(proc, usage):
    """The peak the run wrote at exit; a run killed before its exit handlers wrote none, and
    then ``wait4``'s figure (an upper bound, see ``_OWN_PEAK``) stands in."""
    path = getattr(proc, "peak_file", None)
    try:
        with open(path) as f:
            return int(f.read())
    except (TypeError, OSError, ValueError):
        return usage.ru_maxrss
    finally:
        if path:
            with contextlib.suppress(OSError):
                os.unlink(path)


def run(args, preexec_fn=None, env=None, timeout=300):
    """Run ``python args...`` to the end: a ``Result``."""
    proc, files = start(args, preexec_fn=preexec_fn, env=env)
    return finish(proc, files, timeout)


def finetune(*args, **kwargs):
    """``python -m minitorch.train.cli ARGS`` (minitorch-finetune from this worktree)."""
    return run(["-m", "minitorch.train.cli", *args], **kwargs)


_BASELINE = {}


def baseline_mb():
    """The larger peak of a process that only imports the tool and builds the tiny model, and of
    one whole tiny run (which goes first).

    On a cold numba cache (a fresh clone) that run compiles what the runs reach, so the measured
    runs mostly load kernels, as a user's second run does; the bound is about what hostile input
    costs on top of an ordinary run, so the ordinary run's own peak, compiling included, is part
    of the baseline."""
    if "mb" not in _BASELINE:
        with tempfile.TemporaryDirectory() as tmp:
            ordinary = run(["-m", "minitorch.train.cli",
                            str(tiny_config(tmp, Path(tmp) / "out", epochs=1))]).peak_mb
        code = ("import minitorch.train.cli, minitorch.train.trainer; from models import "
                "resnet18; resnet18(num_classes=2, variant='small', width=4)")
        _BASELINE["mb"] = max(ordinary, run(["-c", code]).peak_mb)
    return _BASELINE["mb"]


def folder_digest(folder):
    """{relative path: sha1} of every file under ``folder`` (None if it does not exist)."""
    folder = Path(folder)
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_line(result, code=2, prefix="error: ", contains=()):
    """Exit ``code``, one stderr line starting with ``prefix`` that holds every ``contains``,
    no traceback, memory within the bound over the baseline."""
    assert result.returncode == code, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith(prefix), result
    assert "Traceback" not in result.stderr
    for part in contains:
        assert part in lines[0], (part, lines[0])
    assert result.peak_mb < baseline_mb() + MEMORY_BOUND_MB, (result.peak_mb, baseline_mb())
    return lines[0]


def assert_refused(result, folder, before, contains=(), code=2, prefix="error: "):
    """``assert_one_line`` and the output folder byte for byte as it was."""
    line = assert_one_line(result, code=code, prefix=prefix, contains=contains)
    assert folder_digest(folder) == before, line
    return line


def resume_case(tmp, finished, name, folder, damage=None, **sections):
    """A case for ``finetune_cases_in_one_process``: a copy of the ``finished`` run in
    ``tmp/folder`` (``damage(out)`` applied), resumed with a 2-epoch tiny config (``sections``
    change it)."""
    out = Path(tmp) / folder
    shutil.copytree(finished, out)
    if damage is not None:
        damage(out)
    config = tiny_config(tmp, out, f"{folder}.yaml", epochs=2, **sections)
    return {"name": name, "folder": str(out), "argv": [str(config), "--resume", "auto"]}


def finetune_cases_in_one_process(tmp, cases):
    """Run ``finetune_main(case["argv"])`` for every case in one worker process (one import for
    all; see worker_cases.py): ``{"results": {name: ...}, "peak_mb": ...}``. ``cases`` is a list
    of ``{"name", "folder", "argv"}``."""
    spec = Path(tmp) / "cases.json"
    spec.write_text(json.dumps(cases))
    result = run([Path(__file__).resolve().parent / "worker_cases.py", spec])
    assert result.returncode == 0, result
    return json.loads(result.stdout)


def case_result(batch, name):
    """One case of ``finetune_cases_in_one_process`` as a ``Result`` (the process's peak memory
    bounds the case's)."""
    got = batch["results"][name]
    return Result(got["returncode"], got["stdout"], got["stderr"], batch["peak_mb"])
