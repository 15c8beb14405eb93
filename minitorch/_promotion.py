"""PyTorch's type promotion, on numpy dtypes.

Operands come in three ranks: dimensioned tensors, 0-d tensors, and Python scalars ("wrapped
numbers"). Dtypes have categories bool < integer < floating. Within each rank the dtypes promote
as usual (int32 + int64 -> int64); across ranks a lower rank only counts when its category is
higher than every higher rank's: so a float32 tensor stays float32 against a 0-d float64 tensor or
a Python float, an int32 tensor stays int32 against a Python int, but an int tensor plus a Python
float is the default float dtype. A Python float is the default float dtype (float32), a Python
int is int64, a Python bool is bool.

Callers pass ndarrays for tensors (``t._data``) and Python scalars as they are, so this module
sits below Tensor.
"""
import numbers

import numpy as np

__all__ = ["result_type", "category", "DEFAULT_FLOAT", "float_result", "is_scalar"]

DEFAULT_FLOAT = np.dtype(np.float32)
_INT64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)


def category(dt) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    kind = np.dtype(dt).kind
    return 0 if kind == "b" else 2 if kind in "fc" else 1


def is_scalar(x) -> bool:
    return isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray)


def _scalar_dtype(x):
    if isinstance(x, (bool, np.bool_)):
        return _BOOL
    if isinstance(x, (numbers.Integral, np.integer)):
        return _INT64
    if isinstance(x, (numbers.Real, np.floating)):
        return DEFAULT_FLOAT
    raise TypeError(f"unsupported scalar type {type(x).__name__} in a tensor op")


def _promote(a, b):
    """PyTorch's promote_types: the higher category wins whatever its width (int64 with float32
    is float32, unlike numpy's float64); within a category the wider dtype."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    """A lower-ranked dtype only matters when it is of a higher category (or fills a gap)."""
    if higher is None:
        return lower
    if lower is None or category(higher) == 2:
        return higher
    if category(higher) == 0 or category(lower) == 2:
        return _promote(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch computes ``op(*operands)`` in; ``None`` operands are ignored."""
    dim = zero = wrapped = None
    for x in operands:
        if x is None:
            continue
        if isinstance(x, np.ndarray):
            if x.ndim:
                dim = _promote(dim, x.dtype)
            else:
                zero = _promote(zero, x.dtype)
        else:
            wrapped = _promote(wrapped, _scalar_dtype(x))
    out = _combine(dim, _combine(zero, wrapped))
    if out is None:
        raise TypeError("result_type needs at least one operand")
    return out


def float_result(dt) -> np.dtype:
    """The dtype a floating op (true division, sqrt, exp, ...) returns for inputs of ``dt``."""
    return np.dtype(dt) if category(dt) == 2 else DEFAULT_FLOAT
