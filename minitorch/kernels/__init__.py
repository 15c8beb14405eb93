"""numba kernels: module-level ``@njit(cache=True)`` functions, ndarrays in and out.

Nothing here knows about ``Tensor``; the Functions in ``minitorch.ops`` call these. Each kernel's
docstring names the axis it runs in parallel over and why that split is race-free.

Importing this package changes nothing in the process: no environment variable, no allocator
setting, no thread count, no process started. The process settings the kernels are fastest with
are made by an explicit call, ``minitorch.runtime.configure()`` (the CLI and the Trainer make it).
``gemm`` is the one piece of state here: the size of the thread pool its products run on (1, i.e.
plain ``np.matmul``, until ``configure`` sets it).
"""
from . import (activation, conv, conv_dense, gemm, loss, norm, pool, sgd, winograd, winograd43,
               winograd43_grad)
from .precompile import (HEAD_ONLY_NAMES, KERNEL_NAMES, MAX_POOL_NAMES, cold_kernels,
                         compile_kernels, warmup)

__all__ = ["activation", "conv", "conv_dense", "gemm", "loss", "norm", "pool", "sgd", "winograd",
           "winograd43", "winograd43_grad",
           "compile_kernels", "cold_kernels", "warmup", "KERNEL_NAMES", "HEAD_ONLY_NAMES",
           "MAX_POOL_NAMES"]
