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
  loads OpenBLAS, so it has to be set before numpy is imported: by an entry point, not here
  (scripts/benchmark.py and scripts/bench_kernels.py do so).
* glibc returns every freed block above 128 KiB to the OS, so each new activation array of a
  training step is page-faulted in again (measured: ~14k faults and ~0.15 s of system time per
  ResNet-18 step at batch 16). Raising the mmap and trim thresholds keeps freed blocks in the
  heap for reuse: faults drop 3x, the step gets ~10% faster, peak RSS is unchanged.
  ``MINITORCH_MALLOC_TUNING=0`` opts out.
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

import subprocess  # noqa: E402

import numpy as np  # noqa: E402

from . import activation, conv, loss, norm, pool, sgd  # noqa: E402

__all__ = ["activation", "conv", "loss", "norm", "pool", "sgd", "compile_kernels", "warmup",
           "KERNEL_NAMES"]


def _warm_calls(dt):
    """One tiny call per training kernel, so numba compiles (or loads) the ``dt`` version."""
    x, w = np.ones((2, 3, 5, 5), dt), np.ones(3, dt)
    x3, v3 = x.reshape(2, 3, 25), np.ones((2, 3, 25), dt)
    i2 = np.zeros((2, 3, 2, 2), np.int64)
    t = np.zeros(2, np.int64)
    return {
        "im2col": lambda: conv.im2col(np.empty((27, 50), dt), x, 3, 3, 1, 1, 1, 1, 1, 1),
        "col2im": lambda: conv.col2im(np.empty_like(x), np.ones((27, 50), dt), 3, 3, 1, 1, 1, 1,
                                      1, 1),
        "swap01": lambda: conv.swap01(np.empty((3, 2, 25), dt), v3),
        "transpose12": lambda: conv.transpose12(np.empty((2, 25, 3), dt), v3),
        "batch_norm_stats": lambda: norm.batch_norm_stats(np.empty(3, dt), np.empty(3, dt), x3,
                                                          1e-5),
        "batch_norm_apply": lambda: norm.batch_norm_apply(np.empty_like(x3), x3, w, w, w, w, 0),
        "batch_norm_backward": lambda: norm.batch_norm_backward(
            np.empty_like(x3), np.empty(3, dt), np.empty(3, dt), v3, x3, w, w, w, w, 1, 0, 1, 1),
        "relu_forward": lambda: activation.relu_forward(np.empty(4, dt), np.ones(4, dt)),
        "relu_backward": lambda: activation.relu_backward(np.empty(4, dt), np.ones(4, dt),
                                                          np.ones(4, dt)),
        "max_pool2d_forward": lambda: pool.max_pool2d_forward(np.empty((2, 3, 2, 2), dt),
                                                              np.empty_like(i2), x, 2, 2, 2, 2,
                                                              0, 0, 1, 1),
        "max_pool2d_backward": lambda: pool.max_pool2d_backward(np.empty_like(x),
                                                                np.ones((2, 3, 2, 2), dt), i2),
        "adaptive_avg_pool2d_forward": lambda: pool.adaptive_avg_pool2d_forward(
            np.empty((2, 3, 1, 1), dt), x),
        "adaptive_avg_pool2d_backward": lambda: pool.adaptive_avg_pool2d_backward(
            np.empty_like(x), np.ones((2, 3, 1, 1), dt)),
        "cross_entropy_forward": lambda: loss.cross_entropy_forward(
            np.empty(2, dt), np.empty(2, dt), np.ones((2, 3), dt), t, w, 0.0, -100),
        "cross_entropy_backward": lambda: loss.cross_entropy_backward(
            np.empty((2, 3), dt), np.ones((2, 3), dt), t, w, np.ones(2, dt), 0.0, -100),
    }


KERNEL_NAMES = tuple(_warm_calls(np.float32))


def compile_kernels(names=None, dtype=np.float32) -> None:
    """Compile (or load from numba's cache) the training kernels for ``dtype``, in this process."""
    calls = _warm_calls(np.dtype(dtype))
    for name in names or KERNEL_NAMES:
        calls[name]()


def _kernel(name):
    for module in (conv, norm, activation, pool, loss):
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


def warmup(processes: int = 2) -> None:
    """Fill numba's on-disk cache for the training kernels, compiling in parallel processes.

    A cold cache costs ~25 s of single-threaded compilation, paid on the first training step;
    split over ``processes`` worker processes (numba cannot compile two functions at once in one
    process) it takes about 1/processes of that. This process then loads every kernel from the
    cache (well under a second).
    """
    names = list(KERNEL_NAMES)
    cold = [n for n in names if not _has_cache_index(n)]
    if processes > 1 and len(cold) > 1:
        shares = [cold[i::processes] for i in range(processes)]
        code = "import minitorch.kernels as k, sys; k.compile_kernels(sys.argv[1:])"
        workers = [subprocess.Popen([sys.executable, "-c", code, *share]) for share in shares]
        failed = [w.args for w in workers if w.wait() != 0]
        if failed:
            raise RuntimeError(f"kernel warm-up worker failed: {failed[0]}")
    compile_kernels(names)
