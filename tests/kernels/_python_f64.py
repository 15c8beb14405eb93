"""Run the Winograd kernels' float64 calls as plain Python, their float32 calls compiled.

The library never compiles the Winograd kernels for float64 (a float64 convolution takes im2col,
``ops.conv_winograd.use_winograd``), but their exactness is clearest in float64: a transform
that is the exact adjoint of another agrees with it to 1e-12 there. Compiling a float64 build
only for those checks cost about 2 minutes of the suite's CPU, so a float64 call runs the
kernel's source (``py_func``) instead, with every kernel it calls run as Python too; the tests'
shapes are a few tiles. float32 calls go to the compiled kernels the library uses.
"""
import types

import numpy as np
from numba.core.registry import CPUDispatcher

__all__ = ["float64_as_python"]

_python = {}
_KERNELS = "minitorch.kernels"


def _as_python(kernel):
    """``kernel``'s source as a plain function, the njit functions it calls converted too."""
    if kernel in _python:
        return _python[kernel]
    source = kernel.py_func
    names = dict(source.__globals__)
    fn = types.FunctionType(source.__code__, names, source.__name__, source.__defaults__,
                            source.__closure__)
    _python[kernel] = fn
    for name, value in source.__globals__.items():
        if isinstance(value, CPUDispatcher):
            names[name] = _as_python(value)
        elif isinstance(value, types.ModuleType) and value.__name__.startswith(_KERNELS):
            names[name] = _PythonModule(value)   # (``WGG.gather(...)`` inside a kernel)
    return fn


class _PythonModule:
    """A kernel module whose numba functions are looked up as their plain-Python versions."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        return _as_python(value) if isinstance(value, CPUDispatcher) else value


def _dispatch(kernel):
    def call(*args):
        if any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in args):
            return _as_python(kernel)(*args)
        return kernel(*args)
    call.__name__ = kernel.__name__
    return call


def float64_as_python(module):
    """A namespace of ``module``'s attributes whose numba kernels run as Python on float64."""
    return types.SimpleNamespace(**{
        name: _dispatch(value) if isinstance(value, CPUDispatcher) else value
        for name, value in vars(module).items() if not name.startswith("__")})
