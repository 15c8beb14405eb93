"""Argument checks and type promotion shared by the op declarations (``_ops_*.py``) and the
Python operators: every operand cast to the dtype PyTorch computes in, shapes checked, the
refusals PyTorch makes (bool subtraction, integer negative powers, ...) with the op's name.
"""
import numpy as np

from . import _promotion as P
from .autograd.variable import TensorBase
from ._tensor_shape import _dims

__all__ = []  # private helpers, imported by name


# --------------------------------------------------------------------- promotion
def _operand(x):
    """What ``result_type`` sees for an operand: a tensor's array, a scalar as it is (a number
    given to a function form as ``input``, ``mt.add(2, t)``, is one: torch's wrapped number)."""
    if isinstance(x, TensorBase):
        return x._data.item() if getattr(x, "_wrapped_number", False) else x._data
    if x is None or P.is_scalar(x):
        return x
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"unsupported operand type for a Tensor op: {type(x).__name__}")


def _cast(x, dt, checked=False):
    """``x`` as an operand of dtype ``dt``: a tensor cast (recorded), a scalar as a 0-d array
    (wrapped into an integer dtype as torch's operators do, or ``checked`` that it fits, as
    torch's fill values and clamp bounds)."""
    if x is None:
        return None
    if isinstance(x, TensorBase):
        if x._data.dtype == dt:
            return x
        y = x.type(dt)
        # PyTorch saves the original operand (it casts inside the kernel): the promoted copy
        # shares its version counter, so an in-place change to ``x`` is caught in backward
        y._version_counter = x._version_counter
        return y
    return P.checked_scalar(x, dt) if checked else P.wrap_scalar(x, dt)


def _check_broadcast(op, *xs):
    shapes = [np.shape(_operand(x)) for x in xs if x is not None]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be "
                         "broadcast together") from None


def _promote_many(op, *xs, floating=False, checked=False):
    """Every operand (Tensor, scalar or None) cast to the dtype PyTorch computes ``op`` in."""
    dt = P.result_type(*[_operand(x) for x in xs])
    if floating:
        dt = P.float_result(dt)
    _check_broadcast(op, *xs)
    return [_cast(x, dt, checked) for x in xs]


def _promote(op, a, b, floating=False):
    """``a`` (a Tensor) and ``b`` (Tensor or scalar) cast to PyTorch's result dtype."""
    if isinstance(b, TensorBase) and a._data.dtype == b._data.dtype and not (
            floating and a._data.dtype.kind != "f"):
        if a.shape != b.shape:
            _check_broadcast(op, a, b)
        return a, b
    return _promote_many(op, a, b, floating=floating)


def _as_float(t):
    """Integer and bool inputs of a floating op become the default float dtype first."""
    return t if t._data.dtype.kind == "f" else t.type(P.float_result(t._data.dtype))


def _no_bool(t, op):
    if t._data.dtype == np.bool_:
        raise RuntimeError(f"{op}: not supported for bool tensors (use ~ or logical_not to "
                           "invert a mask)")
    return t


def _integral(t, op):
    if t._data.dtype.kind == "f":
        raise TypeError(f"{op} is only implemented on integer and bool tensors, got {t.dtype}")
    return t


def _invert(a, _b):
    return np.invert(a)


def _tensors_only(op, a, b):
    if not isinstance(b, TensorBase):
        raise TypeError(f"{op}(): argument 'other' must be a Tensor, not {type(b).__name__}")
    return a


def _check_bool_sub(a, b):
    if (a._data.dtype == np.bool_ or isinstance(b, (bool, np.bool_))
            or isinstance(b, TensorBase) and b._data.dtype == np.bool_):
        raise RuntimeError("sub: subtraction with a bool tensor is not supported; use ^ or "
                           "logical_xor for two masks, ~ to invert one")
    return a


def _check_pow(a, other, reverse=False):
    """PyTorch refuses an integer tensor to a negative Python int power (a negative *tensor*
    exponent is computed: see ops.elementwise.Pow), and pow in bool with a bool tensor exponent
    (a bool tensor to a Python bool power is allowed and stays bool)."""
    if (not reverse and a._data.dtype.kind in "biu" and isinstance(other, int)
            and not isinstance(other, bool) and other < 0):
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    other_bool = isinstance(other, bool) or (isinstance(other, TensorBase)
                                             and other._data.dtype == np.bool_)
    exponent_is_tensor = reverse or isinstance(other, TensorBase)
    if a._data.dtype == np.bool_ and other_bool and exponent_is_tensor:
        raise RuntimeError("pow: not implemented for bool tensors")
    return a


# --------------------------------------------------------------------- reductions
def _reduce_dims(t, dim, keepdim):
    """(tensor, normalised dims, keepdim) for a reduction. A 0-d tensor reduced over dim 0 or -1
    becomes a 1-element one, reduced to 0-d again whatever ``keepdim`` says (as PyTorch)."""
    if dim is None:
        return t, None, keepdim
    dims = _dims(dim, t.ndim)
    if isinstance(dims, tuple) and len(set(dims)) != len(dims):
        repeated = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    if t.ndim == 0:
        return t.reshape(1), 0, False
    return t, dims, keepdim

