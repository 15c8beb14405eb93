"""torch's legacy typed constructors: ``mt.FloatTensor([1, 2])``, ``mt.LongTensor(2, 3)``,
``mt.ByteTensor(array)``, and ``isinstance(x, mt.FloatTensor)`` (a float32 tensor)."""
import numbers

import numpy as np

from . import dtypes
from .autograd.function import legacy_type_name
from .creation import tensor as _tensor
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]


class _LegacyType(type):
    """``isinstance(x, mt.LongTensor)``: x is a Tensor of that dtype, as in torch."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np


def _is_size(args):
    return all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args)


def _construct(cls, *args):
    d = cls.dtype
    if _is_size(args):                      # LongTensor(2, 3), LongTensor(): zeros
        return Tensor._new(np.zeros(tuple(int(a) for a in args) or (0,), d.np))
    if len(args) != 1:
        raise TypeError(f"{cls.__name__}(): give one sequence or array, or sizes, got {args!r}")
    data = args[0]
    if isinstance(data, Tensor):            # an alias of a tensor of this dtype only
        if data._data.dtype != d.np:
            raise TypeError(f"{cls.__name__}(): expected a {d.name} tensor, got {data.dtype}")
        return data
    if isinstance(data, np.ndarray):        # shared when the dtype matches, else converted
        return Tensor._new(data if data.dtype == d.np else data.astype(d.np))
    return _tensor(data, dtype=d)


def _legacy(d):
    name = legacy_type_name(d.name)
    return _LegacyType(name, (), {"dtype": d, "__new__": _construct, "__module__": "minitorch",
                                  "__doc__": f"``minitorch.{name}(...)``: a {d.name} tensor "
                                             "(from data, an array, or sizes)."})


FloatTensor = _legacy(dtypes.float32)
DoubleTensor = _legacy(dtypes.float64)
LongTensor = _legacy(dtypes.int64)
IntTensor = _legacy(dtypes.int32)
ShortTensor = _legacy(dtypes.int16)
CharTensor = _legacy(dtypes.int8)
ByteTensor = _legacy(dtypes.uint8)
BoolTensor = _legacy(dtypes.bool)
