"""Serial twins: a parallel kernel's body compiled a second time without ``parallel=True``.

numba's parallel lowering (the gufunc, its scheduling, the OpenMP/workqueue glue) roughly doubles
a kernel's compile time, and at small sizes it buys nothing: measured one kernel per cold process
(CPU s, parallel -> serial), ``weight_transform`` 4.0 -> 1.9 and ``transpose12`` 4.1 -> 2.1, while
the digits job's calls (weights up to 128x128 channels, a few small layout copies) run as fast
serially. The kernel file keeps one body; the caller picks the twin by size, so a run compiles
only the twin its sizes reach.

Twins release the GIL (``nogil=True``): pipelines run them on several Python threads at once,
each on its own slice of the batch (``kernels.gemm.run_tasks``).
"""
import types

from numba import njit

__all__ = ["serial_twin"]


def serial_twin(kernel, name=None):
    """``@njit(cache=True, nogil=True)`` over ``kernel``'s Python function under ``name`` (default: its
    name + ``"_serial"``); ``prange`` runs as ``range``, so the results are the same.

    The twin must be a function of its own name: numba names its on-disk cache files after the
    function's qualified name, and the index key does not include ``parallel``, so two
    dispatchers over one function would load each other's machine code.
    """
    f = getattr(kernel, "py_func", kernel)   # under NUMBA_DISABLE_JIT the kernel is the function
    name = name or f"{f.__name__}_serial"
    twin = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    twin.__qualname__, twin.__doc__, twin.__module__ = name, f.__doc__, f.__module__
    return njit(cache=True, nogil=True)(twin)
