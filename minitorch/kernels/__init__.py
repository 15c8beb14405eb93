"""numba kernels: module-level ``@njit(cache=True)`` functions, ndarrays in and out.

Nothing here knows about ``Tensor``; the Functions in ``minitorch.ops`` call these. Each kernel's
docstring names the axis it runs in parallel over and why that split is race-free.

numba's OpenMP threads and OpenBLAS's threads take turns on the same cores (a conv is im2col,
then GEMM, then a layout copy). By default both keep spinning after their parallel region and
steal the cores from the other pool: measured, im2col ran 2x slower right after a GEMM and the
GEMM ~25% slower right after a kernel. Passive waiting for numba's OpenMP pool fixes the second
half; it must be set before numba starts that pool (on the first parallel kernel call), so it is
set here, unless the user chose a policy. The OpenBLAS half (``OPENBLAS_THREAD_TIMEOUT``) is read
when numpy loads OpenBLAS, so it has to be set before numpy's import (see ``minitorch/__init__``).
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import activation, conv, loss, norm, pool, sgd  # noqa: E402

__all__ = ["activation", "conv", "loss", "norm", "pool", "sgd"]
