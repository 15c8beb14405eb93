"""The cold-cache background compiler started by ``import minitorch.kernels``, and the lock that
keeps concurrent numba cache writes from mixing up signatures."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import minitorch as mt
import minitorch.kernels as kernels
from minitorch import nn, optim

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
fcntl = pytest.importorskip("fcntl")


class _FakePopen:
    started = []

    def __init__(self, args, env=None, **kwargs):
        self.args, self.env, self.killed = args, env, False
        self.reaped = threading.Event()
        _FakePopen.started.append(self)

    def poll(self):
        return None

    def kill(self):
        self.killed = True

    def wait(self, timeout=None):
        self.reaped.set()
        return 0


@pytest.fixture
def cold_cache(monkeypatch):
    """A cache that looks cold, a fake Popen, and no real worker left registered."""
    _FakePopen.started = []
    monkeypatch.setattr(kernels, "_has_cache_index", lambda name: False)
    monkeypatch.setattr(kernels.subprocess, "Popen", _FakePopen)
    monkeypatch.setitem(kernels._BACKGROUND, "process", None)
    monkeypatch.delenv(kernels.BACKGROUND_COMPILE_ENV, raising=False)
    yield
    kernels._BACKGROUND["process"] = None


def test_cold_cache_starts_one_worker_that_cannot_start_its_own(cold_cache):
    proc = kernels._start_background_compile()
    assert _FakePopen.started == [proc]
    assert proc.env[kernels.BACKGROUND_COMPILE_ENV] == "0"  # else the worker would spawn too
    assert kernels._start_background_compile() is None  # one per process
    assert proc.reaped.wait(10)  # by a thread, as soon as it ends: no zombie until exit
    kernels._stop_background()
    assert proc.killed and kernels._BACKGROUND["process"] is None


def test_worker_is_never_killed_in_the_middle_of_a_cache_write(cold_cache):
    proc = kernels._start_background_compile()
    with open(os.path.join(kernels._cache_dir(), kernels._SAVE_LOCK), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the worker does while it writes an entry
        t = threading.Thread(target=kernels._stop_background)
        t.start()
        t.join(0.3)
        assert not proc.killed
    t.join(10)
    assert proc.killed


def test_opt_out_env_var_starts_no_worker(cold_cache, monkeypatch):
    monkeypatch.setenv(kernels.BACKGROUND_COMPILE_ENV, "0")
    assert kernels._start_background_compile() is None
    assert _FakePopen.started == []


def test_warm_cache_starts_no_worker(cold_cache, monkeypatch):
    monkeypatch.setattr(kernels, "_has_cache_index", lambda name: True)
    assert kernels._start_background_compile() is None
    assert _FakePopen.started == []


def test_no_second_worker_while_another_process_holds_the_worker_lock(cold_cache):
    with open(os.path.join(kernels._cache_dir(), kernels._WORKER_LOCK), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert kernels._start_background_compile() is None
    assert _FakePopen.started == []


def test_worker_compiles_nothing_once_its_parent_is_gone(monkeypatch):
    compiled = []
    monkeypatch.setattr(kernels, "compile_kernels", lambda names: compiled.extend(names))
    monkeypatch.setattr(kernels, "_has_cache_index", lambda name: False)
    kernels._compile_in_background(parent=os.getppid() + 1)
    assert compiled == []


def test_worker_compiles_last_used_kernels_first(monkeypatch):
    compiled = []
    monkeypatch.setattr(kernels, "compile_kernels", lambda names: compiled.extend(names))
    monkeypatch.setattr(kernels, "_has_cache_index", lambda name: name.startswith("im2col"))
    kernels._compile_in_background(parent=os.getppid())
    assert compiled == [n for n in reversed(kernels.KERNEL_NAMES) if n != "im2col"]


def test_every_kernel_cache_save_waits_for_the_cross_process_lock():
    assert kernels._lock_cache_saves()
    cache_file = kernels.norm.batch_norm_stats._cache._cache_file
    assert cache_file._minitorch_locked
    lock_path = os.path.join(kernels._cache_dir(), kernels._SAVE_LOCK)
    saved = threading.Event()
    original = cache_file.save
    try:
        cache_file.save = kernels._locked(lambda key, data: saved.set(), lock_path)
        with open(lock_path, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # as another process mid-save would
            t = threading.Thread(target=cache_file.save, args=("key", "data"))
            t.start()
            t.join(0.3)
            assert not saved.is_set()  # blocked behind the held lock
        t.join(10)
        assert saved.is_set()
    finally:
        cache_file.save = original


def test_parent_exit_leaves_no_worker_behind(tmp_path):
    # an empty cache makes the import start a real worker; the parent exits at once
    code = ("import minitorch.kernels as k; p = k._BACKGROUND['process']; "
            "print(p.pid if p else -1, flush=True)")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    env.pop(kernels.BACKGROUND_COMPILE_ENV, None)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    pid = int(out.stdout.split()[0])
    assert pid > 0
    with pytest.raises(ProcessLookupError):  # terminated and reaped, not an orphan or zombie
        os.kill(pid, 0)


def test_warm_calls_cover_every_signature_a_training_step_compiles():
    # a kernel signature the warm-up misses is compiled by the first step, not in background
    sys.path.insert(0, ROOT)
    from models import resnet18
    kernels.compile_kernels()
    before = {f: set(f.signatures) for f in _dispatchers()}
    mt.manual_seed(0)
    model = resnet18(num_classes=10, variant="imagenet", width=8).train()
    params = list(model.parameters())
    params.append(nn.Parameter(mt.zeros(9000)))  # big enough for the parallel SGD kernel
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32), dtype=np.float32))
    loss = nn.functional.cross_entropy(model(x), mt.tensor([1, 3])) + (params[-1] * 1).sum()
    loss.backward()
    opt.step()
    new = {f.__name__: sorted(map(str, set(f.signatures) - before[f])) for f in _dispatchers()}
    assert {k: v for k, v in new.items() if v} == {}


def _dispatchers():
    return [f for m in kernels._MODULES for n, f in vars(m).items()
            if n in kernels.KERNEL_NAMES]


def test_workers_import_this_copy_of_minitorch(tmp_path):
    # a worker importing another copy (say the installed one) would fill that copy's cache
    code = "import minitorch.kernels as k; print(k.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=kernels._worker_env(), cwd=tmp_path,
                         capture_output=True, text=True, check=True, timeout=120)
    assert os.path.samefile(out.stdout.strip(), kernels.__file__)


def test_a_kernel_claimed_by_another_process_is_left_to_it(monkeypatch):
    compiled = []
    monkeypatch.setattr(kernels, "compile_kernels", lambda names: compiled.extend(names))
    monkeypatch.setattr(kernels, "_has_cache_index", lambda name: False)
    path = os.path.join(kernels._cache_dir(), kernels._CLAIM_LOCK)
    i = kernels.KERNEL_NAMES.index("im2col")
    holder = ("import fcntl, sys\n"
              f"f = open({path!r}, 'a')\n"
              f"fcntl.lockf(f, fcntl.LOCK_EX, 1, {i})\n"
              "print('claimed', flush=True)\n"
              "sys.stdin.read()\n")
    with subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as other:
        assert other.stdout.readline().strip() == "claimed"
        kernels._compile_unclaimed(["im2col", "swap01"])
        other.stdin.close()
    assert compiled == ["swap01"]
    kernels._compile_unclaimed(["im2col"])  # the claim ended with its process
    assert compiled == ["swap01", "im2col"]
