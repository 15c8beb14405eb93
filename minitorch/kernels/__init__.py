"""numba kernels: module-level ``@njit(cache=True)`` functions, ndarrays in and out.

Nothing here knows about ``Tensor``; the Functions in ``minitorch.ops`` call these. Each kernel's
docstring names the axis it runs in parallel over and why that split is race-free.
"""
from . import activation, conv, loss, norm, pool

__all__ = ["activation", "conv", "loss", "norm", "pool"]
