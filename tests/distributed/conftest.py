"""Launching real ``mpiexec -n 2`` jobs from tests, bounded by a timeout."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def find_mpiexec():
    """The mpiexec next to this Python (the mpich wheel installs it there), else on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def worker_env(**extra):
    """One thread per rank (2 ranks on a shared 2-core machine) and the repo importable."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
               PYTHONFAULTHANDLER="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(args, n=None, timeout=90, env=None, cwd=None):
    """Run ``python args...`` under ``mpiexec -n n`` (or alone when n is None); return the
    CompletedProcess. A hang fails the test through TimeoutExpired instead of blocking CI."""
    cmd = [sys.executable, *map(str, args)]
    if n is not None:
        cmd = [find_mpiexec(), "-n", str(n), *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=env or worker_env(), cwd=cwd or REPO)


@pytest.fixture
def mpi():
    """Skip (like the torch parity tests) only where the MPI extra is not installed."""
    pytest.importorskip("mpi4py")
    if find_mpiexec() is None:
        pytest.skip("mpiexec not found (pip install -e '.[mpi]')")
    return run_python
