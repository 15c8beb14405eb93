"""numba kernels: module-level ``@njit(cache=True)`` functions, ndarrays in and out.

Nothing here knows about ``Tensor``; the Functions in ``minitorch.ops`` call these. Each kernel's
docstring names the axis it runs in parallel over and why that split is race-free.

Two process settings are made on import, because the kernels' speed depends on them:

* numba's OpenMP threads and OpenBLAS's threads take turns on the same cores (a conv is im2col,
  then GEMM, then a layout copy). By default both keep spinning after their parallel region and
  steal the cores from the other pool: measured, im2col ran 2x slower right after a GEMM and the
  GEMM ~25% slower right after a kernel. ``OMP_WAIT_POLICY=PASSIVE`` fixes numba's side; it must
  be set before numba starts its pool (the first parallel kernel call), so it is set here unless
  the user chose a policy. OpenBLAS's side (``OPENBLAS_THREAD_TIMEOUT=4``) is read when numpy
  loads OpenBLAS, so it has to be set before numpy is imported: ``minitorch/__init__.py`` sets
  it first thing (in time when minitorch is a program's first import, as in the console
  scripts), and scripts/benchmark.py and scripts/bench_kernels.py before their own numpy import.
* glibc returns every freed block above 128 KiB to the OS, so each new activation array of a
  training step is page-faulted in again (measured: ~14k faults and ~0.15 s of system time per
  ResNet-18 step at batch 16). Raising the mmap and trim thresholds keeps freed blocks in the
  heap for reuse: faults drop 3x, the step gets ~10% faster, peak RSS is unchanged.
  ``MINITORCH_MALLOC_TUNING=0`` opts out.

And when numba's cache is cold, import starts one low-priority process that compiles the
training kernels on the second core while the first step compiles its own (see "compiling in
the background" below); ``MINITORCH_BACKGROUND_COMPILE=0`` opts out.
"""
import ctypes
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _tune_allocator() -> bool:
    """Keep freed large blocks in glibc's heap (see the module docstring); True if applied."""
    if os.environ.get("MINITORCH_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl): leave the allocator alone
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    ok = libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's maximum on 64-bit
    return bool(ok and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


_tune_allocator()

import atexit  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
from numba import config as _numba_config  # noqa: E402
from numba.core.dispatcher import Dispatcher as _Dispatcher  # noqa: E402

from . import activation, conv, loss, norm, pool, sgd, winograd  # noqa: E402

try:
    import fcntl
except ImportError:  # not POSIX: no cache-save lock, so no background compiling either
    fcntl = None

__all__ = ["activation", "conv", "loss", "norm", "pool", "sgd", "winograd", "compile_kernels",
           "warmup", "KERNEL_NAMES", "BACKGROUND_COMPILE_ENV"]

# "0" stops ``import minitorch`` from compiling the training kernels in a background process
# when numba's cache is cold (see ``_start_background_compile``).
BACKGROUND_COMPILE_ENV = "MINITORCH_BACKGROUND_COMPILE"
_SAVE_LOCK = "minitorch-cache-save.lock"
_WORKER_LOCK = "minitorch-background-compile.lock"
_CLAIM_LOCK = "minitorch-compile-claims.lock"


def _warm_calls(dt):
    """One tiny call per training kernel, so numba compiles (or loads) the ``dt`` version.

    In the order a ResNet training step first calls them (forward, loss, backward, update): the
    background compiler works through them from the end, the step from the start.
    """
    dt = np.dtype(dt)
    x, w = np.ones((2, 3, 5, 5), dt), np.ones(3, dt)
    x3, v3 = x.reshape(2, 3, 25), np.ones((2, 3, 25), dt)
    i2 = np.zeros((2, 3, 2, 2), np.int64)
    t = np.zeros(2, np.int64)
    s = dt.type(0.5)  # optim.SGD passes its hyperparameters in the parameters' dtype
    # Winograd scratch is (16, channels, row length >= tiles): 2x2 tiles of a 4x4 output, N=2
    x4, w4, p4 = np.ones((2, 2, 4, 4), dt), np.ones((2, 2, 3, 3), dt), np.ones((16, 2, 16), dt)
    return {
        "im2col": lambda: conv.im2col(np.empty((27, 50), dt), x, 3, 3, 1, 1, 1, 1, 1, 1),
        "swap01": lambda: conv.swap01(np.empty((3, 2, 25), dt), v3),
        "batch_norm_stats": lambda: norm.batch_norm_stats(np.empty(3, dt), np.empty(3, dt), x3,
                                                          1e-5),
        "batch_norm_apply": lambda: norm.batch_norm_apply(np.empty_like(x3), x3, w, w, w, w, 0),
        "max_pool2d_forward": lambda: pool.max_pool2d_forward(np.empty((2, 3, 2, 2), dt),
                                                              np.empty_like(i2), x, 2, 2, 2, 2,
                                                              0, 0, 1, 1),
        "weight_transform": lambda: winograd.weight_transform(np.empty((16, 2, 2), dt), w4),
        "tiles": lambda: winograd.tiles(4, 4),
        "input_transform": lambda: winograd.input_transform(np.empty_like(p4), x4, 1, 1),
        "output_transform": lambda: winograd.output_transform(np.empty_like(x4), p4),
        "relu_forward": lambda: activation.relu_forward(np.empty(4, dt), np.ones(4, dt)),
        "transpose12": lambda: conv.transpose12(np.empty((2, 25, 3), dt), v3),
        "adaptive_avg_pool2d_forward": lambda: pool.adaptive_avg_pool2d_forward(
            np.empty((2, 3, 1, 1), dt), x),
        "cross_entropy_forward": lambda: loss.cross_entropy_forward(
            np.empty(2, dt), np.empty(2, dt), np.ones((2, 3), dt), t, w, 0.0, -100),
        "cross_entropy_backward": lambda: loss.cross_entropy_backward(
            np.empty((2, 3), dt), np.ones((2, 3), dt), t, w, np.ones(2, dt), 0.0, -100),
        "adaptive_avg_pool2d_backward": lambda: pool.adaptive_avg_pool2d_backward(
            np.empty_like(x), np.ones((2, 3, 1, 1), dt)),
        "relu_backward": lambda: activation.relu_backward(np.empty(4, dt), np.ones(4, dt),
                                                          np.ones(4, dt)),
        "batch_norm_backward": lambda: norm.batch_norm_backward(
            np.empty_like(x3), np.empty(3, dt), np.empty(3, dt), v3, x3, w, w, w, w, 1, 0, 1, 1),
        "output_transform_adjoint": lambda: winograd.output_transform_adjoint(
            np.empty_like(p4), x4),
        "weight_grad_transform": lambda: winograd.weight_grad_transform(
            np.empty_like(w4), np.ones((16, 2, 2), dt)),
        "input_transform_adjoint": lambda: winograd.input_transform_adjoint(
            np.empty_like(x4), p4, 1, 1),
        "col2im": lambda: conv.col2im(np.empty_like(x), np.ones((27, 50), dt), 3, 3, 1, 1, 1, 1,
                                      1, 1),
        "max_pool2d_backward": lambda: pool.max_pool2d_backward(np.empty_like(x),
                                                                np.ones((2, 3, 2, 2), dt), i2),
        "sgd_update_serial_": lambda: sgd.sgd_update_serial_(w.copy(), w.copy(), w, s, s, s, s,
                                                             0, 0, 1, 1),
        "sgd_update_": lambda: sgd.sgd_update_(w.copy(), w.copy(), w, s, s, s, s, 0, 0, 1, 1),
    }


KERNEL_NAMES = tuple(_warm_calls(np.float32))
_MODULES = (conv, winograd, norm, activation, pool, loss, sgd)


def compile_kernels(names=None, dtype=np.float32) -> None:
    """Compile (or load from numba's cache) the training kernels for ``dtype``, in this process."""
    calls = _warm_calls(np.dtype(dtype))
    for name in names or KERNEL_NAMES:
        calls[name]()


def _kernel(name):
    for module in _MODULES:
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(name)


def _has_cache_index(name) -> bool:
    """Whether numba's cache already holds an index for this kernel (then loading is cheap).

    Reads a numba-internal attribute; if a numba version moves it, every kernel counts as cold
    and warm-up just does redundant (cheap, cached) work in the workers.
    """
    try:
        return os.path.exists(_kernel(name)._cache._cache_file._index_path)
    except (AttributeError, KeyError):
        return False


def _cache_dir():
    """The directory numba caches these kernels in (all modules here share one)."""
    return conv.im2col._cache._cache_path


def _lock_cache_saves() -> bool:
    """Serialise numba's cache writes for every kernel here across processes; True if done.

    numba saves an entry by reading the function's index, picking the first free data-file
    number, then writing index and data file. Two processes saving different signatures of one
    function at once (say float32 in the background compiler, float64 in the user's process)
    can both pick ``.1.nbc``: the index then maps one signature to the other's machine code. An
    ``flock`` around each save makes the read-pick-write atomic. Uses numba internals; if they
    moved, returns False and nothing compiles in the background.
    """
    if fcntl is None:
        return False
    targets = []
    for module in _MODULES:
        for f in vars(module).values():
            if isinstance(f, _Dispatcher):
                cache_file = getattr(getattr(f, "_cache", None), "_cache_file", None)
                if cache_file is None or not hasattr(cache_file, "save"):
                    return False
                targets.append((cache_file, f._cache._cache_path))
    for cache_file, path in targets:
        if not getattr(cache_file, "_minitorch_locked", False):
            cache_file.save = _locked(cache_file.save, os.path.join(path, _SAVE_LOCK))
            cache_file._minitorch_locked = True
    return True


def _locked(save, lock_path):
    def save_locked(key, data):
        with open(lock_path, "a") as lock:  # the lock is released when the file closes
            fcntl.flock(lock, fcntl.LOCK_EX)
            return save(key, data)
    return save_locked


def warmup(processes: int = 2) -> None:
    """Fill numba's on-disk cache for the training kernels, compiling in parallel processes.

    A cold cache costs ~25 s of single-threaded compilation, paid on the first training step;
    split over ``processes`` (this one and ``processes - 1`` workers; numba cannot compile two
    functions at once in one process) it takes about 1/processes of that. Each process takes
    the next kernel nobody has claimed yet, so costly and cheap kernels balance out. This
    process then loads the workers' kernels from the cache (well under a second).
    """
    _stop_background()  # it would compile the same kernels alongside
    names = list(KERNEL_NAMES)
    cold = [n for n in names if not _has_cache_index(n)]
    workers = []
    if processes > 1 and len(cold) > 1 and _lock_cache_saves():
        code = "import minitorch.kernels as k, sys; k._compile_unclaimed(sys.argv[1:])"
        workers = [subprocess.Popen([sys.executable, "-c", code, *cold], env=_worker_env())
                   for _ in range(processes - 1)]
        _compile_unclaimed(cold)  # alongside the workers
    failed = [w.args for w in workers if w.wait() != 0]
    if failed:
        raise RuntimeError(f"kernel warm-up worker failed: {failed[0]}")
    compile_kernels(names)


def _compile_unclaimed(names) -> None:
    """Compile each still-cold kernel of ``names`` that no other process is compiling.

    A process claims kernel ``i`` by an ``fcntl`` lock on byte ``i`` of one lock file: the
    kernel sits with whoever locks it first, and the lock goes when the process does, however
    it ends (no stale claims).
    """
    with open(os.path.join(_cache_dir(), _CLAIM_LOCK), "a") as claims:
        for name in names:
            i = KERNEL_NAMES.index(name)
            try:
                fcntl.lockf(claims, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, i)
            except OSError:
                continue  # another process has it
            try:
                if not _has_cache_index(name):
                    compile_kernels([name])
            finally:
                fcntl.lockf(claims, fcntl.LOCK_UN, 1, i)


# ------------------------------------------------------------------ compiling in the background
# On a cold cache, the first training step compiles ~15 kernels one after another (~20 s of one
# core) while the second core idles. ``import minitorch`` therefore starts one worker process
# that compiles them last-used first, while the user's process compiles them in use order as
# the step reaches them: they meet in the middle, and each kernel the worker finished first is
# only loaded by the step. The worker runs at idle priority, so it only takes a core the step
# leaves idle. Off with MINITORCH_BACKGROUND_COMPILE=0 (and under NUMBA_DISABLE_JIT=1);
# never more than one worker per cache directory; the worker ends when its parent exits.
_BACKGROUND = {"process": None}
# First thing in the worker, before its imports: run only on a core nobody else wants. On a
# busy machine it would otherwise take CPU from the user's own step (and stall its parallel
# loops), slowing the cold start down. Linux's SCHED_IDLE runs it only when a core would idle.
_WORKER_CODE = ("import os, sys\n"
                "try:\n    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
                "except (AttributeError, OSError):\n    os.nice(19)\n"
                "import minitorch.kernels as k\n"
                "k._compile_in_background(int(sys.argv[1]))\n")


def _start_background_compile():
    """Start the background compiler if the cache is cold; the Popen, or None."""
    if os.environ.get(BACKGROUND_COMPILE_ENV, "1") == "0" or _numba_config.DISABLE_JIT:
        return None
    cold = [n for n in KERNEL_NAMES if not _has_cache_index(n)]
    if len(cold) < 2 or _BACKGROUND["process"] is not None or not _lock_cache_saves():
        return None
    if _worker_lock_held():
        return None  # another process's worker is compiling into this cache already
    proc = subprocess.Popen([sys.executable, "-c", _WORKER_CODE, str(os.getpid())],
                            env=_worker_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    proc.owner = os.getpid()
    _BACKGROUND["process"] = proc
    # reap it as soon as it is done, not at exit: no zombie for the rest of a long training run
    threading.Thread(target=proc.wait, name="minitorch-compile-reaper", daemon=True).start()
    return proc


def _worker_lock_held() -> bool:
    with open(os.path.join(_cache_dir(), _WORKER_LOCK), "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        return False  # closing the file releases it again


def _stop_background() -> None:
    """Stop the background compiler (at exit, or before ``warmup``) and reap it."""
    proc = _BACKGROUND["process"]
    if proc is None or proc.owner != os.getpid():
        return  # none, or a forked child's inherited copy of its parent's worker
    _BACKGROUND["process"] = None
    if proc.poll() is None:
        # Holding the save lock, the worker cannot be half-way through writing a cache entry,
        # so killing it at once is safe (a polite SIGTERM could wait long for a niced worker).
        with open(os.path.join(_cache_dir(), _SAVE_LOCK), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            proc.kill()
    proc.wait()


def _worker_env():
    """A compile worker's environment: it must import this very ``minitorch`` (a different copy
    has other source files, hence other cache entries), and must not start workers itself."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, **{BACKGROUND_COMPILE_ENV: "0"})


def _compile_in_background(parent: int) -> None:
    """The worker's loop: last-used kernel first, skipping any the parent has cached already."""
    if not _lock_cache_saves():
        return
    with open(os.path.join(_cache_dir(), _WORKER_LOCK), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another worker got here first
        for name in reversed(KERNEL_NAMES):
            if os.getppid() != parent:
                return  # the parent exited (or was killed): nobody needs the rest now
            _compile_unclaimed([name])


atexit.register(_stop_background)
_start_background_compile()
