"""numba kernels: module-level ``@njit(cache=True)`` functions, ndarrays in and out.

Nothing here knows about ``Tensor``; the Functions in ``minitorch.ops`` call these. Each kernel's
docstring names the axis it runs in parallel over and why that split is race-free.

Two process settings are made on import, because the kernels' speed depends on them:

* numba's OpenMP threads and OpenBLAS's threads take turns on the same cores (a conv is im2col,
  then GEMM, then a layout copy). By default both keep spinning after their parallel region and
  steal the cores from the other pool: measured, im2col ran 2x slower right after a GEMM and the
  GEMM ~25% slower right after a kernel. ``OMP_WAIT_POLICY=PASSIVE`` fixes numba's side; it must
  be set before numba starts its pool (the first parallel kernel call), so it is set here unless
  the user chose a policy. OpenBLAS's side (``OPENBLAS_THREAD_TIMEOUT``) is read when numpy
  loads OpenBLAS, so it has to be set before numpy is imported.
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

from . import activation, conv, loss, norm, pool, sgd  # noqa: E402

__all__ = ["activation", "conv", "loss", "norm", "pool", "sgd"]
