"""The dtypes a Tensor can hold, with PyTorch's names (``mt.float32``, ``mt.int64``, ...)."""
import builtins

import numpy as np

__all__ = ["dtype", "float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool",
           "to_numpy_dtype", "from_numpy_dtype", "get_default_dtype"]


class dtype:
    """A minitorch dtype: a name and the numpy dtype that stores it."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    is_complex = False

    def __init__(self, name: str, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"   # torch: bool and uint8 are unsigned
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"minitorch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int64 = dtype("int64", np.int64)
int32 = dtype("int32", np.int32)
int16 = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)   # what an image decoded to an array holds
bool = dtype("bool", np.bool_)  # noqa: A001 - PyTorch's name

_ALL = (float32, float64, int64, int32, int16, int8, uint8, bool)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}


def _by_name(name):
    return _BY_NAME[name]


def get_default_dtype():
    return float32


def from_numpy_dtype(np_dtype) -> dtype:
    """The minitorch dtype for a numpy dtype; TypeError naming it when unsupported."""
    found = _BY_NP.get(np.dtype(np_dtype))
    if found is None:
        supported = ", ".join(d.name for d in _ALL)
        raise TypeError(f"unsupported dtype {np.dtype(np_dtype)}: minitorch supports {supported}")
    return found


def to_numpy_dtype(d) -> np.dtype:
    """Accept a minitorch dtype, a numpy dtype, a Python type or a name; return a numpy dtype."""
    if isinstance(d, dtype):
        return d.np
    if d is float:
        return float32.np
    if d is int:
        return int64.np
    if d is builtins.bool:
        return bool.np
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d].np
    try:
        np_dtype = np.dtype(d)
    except TypeError:
        raise TypeError(f"unsupported dtype {d!r}") from None
    return from_numpy_dtype(np_dtype).np
