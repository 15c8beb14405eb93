"""``minitorch.runtime``: the explicit process tuning (import makes none of it)."""
import json
import os
import subprocess
import sys

import pytest

from minitorch import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CONFIGURE = r'''
import json, os, sys
import numpy, numba
from threadpoolctl import threadpool_info
import minitorch
from minitorch.kernels import gemm
s = minitorch.runtime.configure(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None)
again = minitorch.runtime.configure()
print(json.dumps({"settings": s.__dict__, "again": again.__dict__,
                  "blas": sorted({i["num_threads"] for i in threadpool_info()
                                  if i["user_api"] == "blas"}),
                  "numba": numba.get_num_threads(), "gemm": gemm.get_num_threads(),
                  "omp": os.environ.get("OMP_WAIT_POLICY")}))
'''


def _configure_in_fresh_process(*args, **env):
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", _CONFIGURE, *args], cwd=ROOT, env=environ,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_configure_makes_blas_single_threaded_and_the_pool_take_the_threads():
    r = _configure_in_fresh_process()
    assert r["blas"] == [1] and r["settings"]["blas_threads"] == 1
    assert r["gemm"] == r["numba"] == r["settings"]["threads"] >= 1
    assert r["omp"] == "PASSIVE" and r["settings"]["omp_passive"]
    if sys.platform.startswith("linux"):
        assert r["settings"]["allocator_tuned"]
    assert r["again"] == r["settings"]  # calling it twice changes nothing


def test_configure_thread_count_and_the_users_wait_policy_win():
    r = _configure_in_fresh_process("1", OMP_WAIT_POLICY="ACTIVE")
    assert r["numba"] == r["gemm"] == 1
    assert r["omp"] == "ACTIVE" and not r["settings"]["omp_passive"]


def test_configure_rejects_a_thread_count_below_one():
    with pytest.raises(ValueError, match="threads"):
        runtime.configure(threads=0)


def test_compile_if_cold_says_so_and_compiles_only_on_a_cold_cache(monkeypatch, capsys):
    import minitorch.kernels as kernels
    warmed = []
    monkeypatch.setattr(runtime, "warmup", lambda processes: warmed.append(processes))
    monkeypatch.setattr(kernels, "cold_kernels", lambda: [])
    assert runtime.compile_if_cold() is False
    assert capsys.readouterr().err == "" and warmed == []
    monkeypatch.setattr(kernels, "cold_kernels", lambda: ["im2col"])
    assert runtime.compile_if_cold(processes=3) is True
    assert capsys.readouterr().err == "compiling kernels (first run only)...\n"
    assert warmed == [3]
