"""Process-level settings made by ``minitorch.kernels`` and the pure-Python debugging mode."""
import os
import subprocess
import sys

import numpy as np

import minitorch.kernels as kernels

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_malloc_tuning_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("MINITORCH_MALLOC_TUNING", "0")
    assert kernels._tune_allocator() is False


def test_openmp_wait_policy_has_a_value_before_numba_starts_its_pool():
    assert os.environ.get("OMP_WAIT_POLICY")


_SCRIPT = """
import numpy as np
import minitorch as mt, minitorch.nn.functional as F
rng = np.random.default_rng(0)
x = mt.tensor(rng.standard_normal((2, 3, 6, 5)), requires_grad=True)
w = mt.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
y = F.conv2d(x, w, stride=(1, 2), padding=1)
y = F.relu(F.batch_norm(y, None, None, training=True))
y = F.max_pool2d(y, 2, ceil_mode=True)
loss = F.cross_entropy(F.adaptive_avg_pool2d(y, 1).flatten(1), mt.tensor([1, 3]))
loss.backward()
np.save(OUT, np.concatenate([[loss.item()], x.grad.numpy().ravel(), w.grad.numpy().ravel()]))
"""


def test_kernels_run_as_plain_python_with_jit_disabled(tmp_path):
    # STYLE: every kernel must also run under NUMBA_DISABLE_JIT=1 (for debugging in Python)
    results = []
    for disable in ("0", "1"):
        out = tmp_path / f"out{disable}.npy"
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable, PYTHONPATH=ROOT)
        subprocess.run([sys.executable, "-c", f"OUT = {str(out)!r}\n" + _SCRIPT], env=env,
                       check=True, cwd=ROOT, timeout=300)
        results.append(np.load(out))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


def test_every_warmup_entry_names_a_real_kernel_and_runs():
    # warmup() finds each kernel's cache file by this name: a typo would make it always "cold"
    for name in kernels.KERNEL_NAMES:
        assert callable(kernels._kernel(name))
    kernels.compile_kernels(kernels.KERNEL_NAMES)  # every warm-up call has valid arguments


def test_warmup_skips_worker_processes_when_the_cache_is_warm(monkeypatch):
    kernels.compile_kernels()
    monkeypatch.setattr(kernels, "_has_cache_index", lambda name: True)

    def no_workers(*args, **kwargs):
        raise AssertionError("spawned a compile worker with a warm cache")

    monkeypatch.setattr(kernels.subprocess, "Popen", no_workers)
    kernels.warmup(processes=2)
