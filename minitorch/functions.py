"""Function forms of tensor operations (``mt.exp(x)``, ``mt.cat([a, b])``, ``mt.where(...)``).

Every op's function is built here from its declaration (``_registry``; the ops are declared in
``minitorch/_ops_*.py``) into ``DECLARED``, which ``minitorch`` exports; below are the few
functions that are not ops (comparisons to a bool, type tests).
"""
import numpy as np

from . import _registry
from .creation import tensor
from .tensor import Tensor

__all__ = ["allclose", "equal", "is_tensor", "is_floating_point", "numel", "DECLARED"]


def _wrapped_number(x):
    """A Python number given where a tensor is expected (``mt.add(2, t)``): a 0-d tensor that
    promotes as the number would (torch's wrapped numbers)."""
    t = tensor(x)
    t._wrapped_number = True
    return t


DECLARED = _registry.REGISTRY.functions(_wrapped_number)
globals().update(DECLARED)


def _t(x):
    return x if isinstance(x, Tensor) else Tensor._new(np.asarray(x))


def is_tensor(x): return isinstance(x, Tensor)
def is_floating_point(x): return x.is_floating_point()
def numel(x): return _t(x).numel()


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(_t(a)._data, _t(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b) -> bool:
    return _t(a).shape == _t(b).shape and bool(np.array_equal(_t(a)._data, _t(b)._data))
