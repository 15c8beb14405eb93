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

__all__ = ["result_type", "category", "DEFAULT_FLOAT", "float_result", "is_scalar",
           "wrap_scalar", "checked_scalar", "check_fits", "can_cast"]

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


def can_cast(src, dst) -> bool:
    """torch.can_cast: an in-place result may be written into any dtype of its category or a
    higher one (int16 into uint8 wraps, as torch); never floating into integer or bool, nor
    integer into bool (numpy's "same_kind" also refuses int16 into uint8)."""
    return category(src) <= category(dst)


def wrap_scalar(x, dt) -> np.ndarray:
    """A Python scalar as a 0-d array of ``dt``, as torch converts a wrapped number to an
    operand's dtype: integers wrap modulo 2**bits (``uint8_t + 300`` adds 44, ``u8 == -1``
    compares with 255) where numpy 2 would raise OverflowError."""
    dt = np.dtype(dt)
    if dt.kind in "iu" and isinstance(x, (numbers.Integral, np.integer)) \
            and not isinstance(x, (bool, np.bool_)):
        return np.asarray(_wrapped_int(int(x), dt), dtype=dt)
    return np.asarray(x, dtype=dt)


def _wrapped_int(v: int, dt: np.dtype) -> int:
    bits = 8 * dt.itemsize
    v %= 1 << bits
    return v - (1 << bits) if dt.kind == "i" and v >= 1 << (bits - 1) else v


_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t"}


def check_fits(values, dt, c_name=True) -> None:
    """torch's overflow check of numbers converted to the integer dtype ``dt`` (fill values,
    clamp bounds, ``alpha``, ``tensor(list, dtype=)``): RuntimeError unless each fits. A float
    must lie in [min, max]; an integer too, except that an unsigned dtype also takes one down to
    -max (``fill_(-1)`` on uint8 is 255, as torch)."""
    dt = np.dtype(dt)
    values = np.asarray(values)
    if dt.kind not in "iu" or values.dtype.kind not in "iuf" or values.size == 0:
        return
    info = np.iinfo(dt)
    low = -info.max if dt.kind == "u" and values.dtype.kind != "f" else info.min
    with np.errstate(invalid="ignore"):
        fits = (values >= low) & (values <= info.max)   # (NaN fails too)
    if not fits.all():
        name = _C_NAMES[dt.name] if c_name else dt.name
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def checked_scalar(x, dt) -> np.ndarray:
    """A Python scalar as a 0-d array of ``dt`` the way torch converts a fill value, a clamp
    bound or ``alpha``: ``check_fits``, then wrapped."""
    dt = np.dtype(dt)
    if dt.kind in "iu" and isinstance(x, (numbers.Real, np.number)) \
            and not isinstance(x, (bool, np.bool_)):
        check_fits(np.asarray(x) if isinstance(x, numbers.Integral) else float(x), dt)
        return np.asarray(_wrapped_int(int(x), dt), dtype=dt)
    return np.asarray(x, dtype=dt)
