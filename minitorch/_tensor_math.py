"""Tensor arithmetic, comparisons, unary maths and reductions (a mixin of ``Tensor``).

Each operator picks the result dtype the way PyTorch does (``_promotion``), checks shapes, then
calls one ``Function.apply`` from ``minitorch.ops``; every result, bool and integer ones included,
is made by ``Function.apply``, so this mixin never needs the Tensor class itself.
"""
import numpy as np

from . import _promotion as P
from .autograd import values_indices
from .ops import elementwise as E
from .ops import matmul as M
from .ops import reduce as R
from .ops import softmax as SM
from ._tensor_shape import _dim, _dims
from .ops import activation as A

__all__ = ["TensorMath"]


class TensorMath:
    __slots__ = ()

    def _binary(self, other, fn, reverse=False, true_div=False):
        a, b = _promote(fn.__name__.lower(), self, other, floating=true_div)
        if reverse:
            a, b = b, a
        return fn.apply(a, b)

    def _compare(self, other, op):
        a, b = _promote(op.__name__, self, other)
        return E.Compare.apply(a, b, op=op)

    def __add__(self, o): return self._binary(o, E.Add)
    def __radd__(self, o): return self._binary(o, E.Add, reverse=True)
    def __sub__(self, o): return _check_bool_sub(self, o)._binary(o, E.Sub)
    def __rsub__(self, o): return _check_bool_sub(self, o)._binary(o, E.Sub, reverse=True)
    def __mul__(self, o): return self._binary(o, E.Mul)
    def __rmul__(self, o): return self._binary(o, E.Mul, reverse=True)
    def __truediv__(self, o): return self._binary(o, E.Div, true_div=True)
    def __rtruediv__(self, o): return self._binary(o, E.Div, reverse=True, true_div=True)
    def __pow__(self, o): return _check_pow(self, o)._binary(o, E.Pow)
    def __rpow__(self, o): return _check_pow(self, o, True)._binary(o, E.Pow, reverse=True)
    def __matmul__(self, o): return _matmul(self, o)
    def __rmatmul__(self, o): return _matmul(o, self)
    def __neg__(self): return E.Neg.apply(_no_bool(self, "neg"))
    def __pos__(self): return self
    def __abs__(self): return self.abs()
    def __eq__(self, o): return self._compare(o, np.equal)
    def __ne__(self, o): return self._compare(o, np.not_equal)
    def __lt__(self, o): return self._compare(o, np.less)
    def __le__(self, o): return self._compare(o, np.less_equal)
    def __gt__(self, o): return self._compare(o, np.greater)
    def __ge__(self, o): return self._compare(o, np.greater_equal)
    def __invert__(self): return E.Compare.apply(_integral(self, "~"), None, op=_invert)
    def __and__(self, o): return _integral(self, "&")._compare(o, np.bitwise_and)
    def __or__(self, o): return _integral(self, "|")._compare(o, np.bitwise_or)
    def __xor__(self, o): return _integral(self, "^")._compare(o, np.bitwise_xor)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    matmul = __matmul__
    neg = __neg__
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def pow(self, exponent): return self.__pow__(exponent)
    def exp(self): return E.Exp.apply(_as_float(self))
    def log(self): return E.Log.apply(_as_float(self))
    def sqrt(self): return E.Sqrt.apply(_as_float(self))
    def abs(self): return E.Abs.apply(_no_bool(self, "abs"))
    def tanh(self): return E.Tanh.apply(_as_float(self))
    def sigmoid(self): return E.Sigmoid.apply(_as_float(self))

    def relu(self):
        return A.ReLU.apply(self)

    def maximum(self, other): return _tensors_only("maximum", self, other)._binary(other, E.Maximum)
    def minimum(self, other): return _tensors_only("minimum", self, other)._binary(other, E.Minimum)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        x, lo, hi = _promote_many("clamp", self, min, max)
        one_tensor_bound = (min is None) != (max is None) and isinstance(
            min if max is None else max, TensorMath)
        if x._data.dtype == np.bool_ and not one_tensor_bound:
            # (PyTorch's clamp_min / clamp_max with a tensor bound take bool; nothing else does)
            raise RuntimeError("clamp: not implemented for bool tensors")
        return E.Clamp.apply(x, lo, hi)

    clip = clamp

    def softmax(self, dim):
        return _softmax(SM.Softmax, self, dim)

    def log_softmax(self, dim):
        return _softmax(SM.LogSoftmax, self, dim)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        t = self.type(dtype) if dtype is not None else self
        if dtype is None and t._data.dtype.kind in "biu":
            t = t.type(np.int64)  # PyTorch sums bool and integer tensors in int64
        t, dims, keepdim = _reduce_dims(t, dim, keepdim)
        return R.Sum.apply(t, dim=dims, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {self.dtype}")
        t, dims, keepdim = _reduce_dims(self, dim, keepdim)
        return R.Mean.apply(t, dim=dims, keepdim=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return _moment(R.Var, self, dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return _moment(R.Std, self, dim, unbiased, keepdim, correction)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, TensorMath):
            return self.maximum(dim)
        if dim is None:
            return R.MaxAll.apply(self)
        return _extreme_dim(R.MaxDim, self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, TensorMath):
            return self.minimum(dim)
        if dim is None:
            return R.MinAll.apply(self)
        return _extreme_dim(R.MinDim, self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        t, dims, keepdim = _reduce_dims(self, None if dim == () else dim, keepdim)
        return R.Amax.apply(t, dim=dims, keepdim=keepdim)

    def amin(self, dim=(), keepdim=False):
        t, dims, keepdim = _reduce_dims(self, None if dim == () else dim, keepdim)
        return R.Amin.apply(t, dim=dims, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _arg(self, R.ArgMax, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _arg(self, R.ArgMin, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        t, dims, keepdim = _reduce_dims(self, dim, keepdim)
        return R.Logical.apply(t, fn=np.all, dim=dims, keepdim=keepdim)

    def any(self, dim=None, keepdim=False):
        t, dims, keepdim = _reduce_dims(self, dim, keepdim)
        return R.Logical.apply(t, fn=np.any, dim=dims, keepdim=keepdim)


# --------------------------------------------------------------------- promotion
def _operand(x):
    """What ``result_type`` sees for an operand: a tensor's array, a scalar as it is."""
    if isinstance(x, TensorMath):
        return x._data
    if x is None or P.is_scalar(x):
        return x
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"unsupported operand type for a Tensor op: {type(x).__name__}")


def _cast(x, dt):
    """``x`` as an operand of dtype ``dt``: a tensor cast (recorded), a scalar as a 0-d array."""
    if x is None:
        return None
    if isinstance(x, TensorMath):
        if x._data.dtype == dt:
            return x
        y = x.type(dt)
        # PyTorch saves the original operand (it casts inside the kernel): the promoted copy
        # shares its version counter, so an in-place change to ``x`` is caught in backward
        y._version_counter = x._version_counter
        return y
    return np.asarray(x, dtype=dt)


def _check_broadcast(op, *xs):
    shapes = [np.shape(_operand(x)) for x in xs if x is not None]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be "
                         "broadcast together") from None


def _promote_many(op, *xs, floating=False):
    """Every operand (Tensor, scalar or None) cast to the dtype PyTorch computes ``op`` in."""
    dt = P.result_type(*[_operand(x) for x in xs])
    if floating:
        dt = P.float_result(dt)
    _check_broadcast(op, *xs)
    return [_cast(x, dt) for x in xs]


def _promote(op, a, b, floating=False):
    """``a`` (a Tensor) and ``b`` (Tensor or scalar) cast to PyTorch's result dtype."""
    if isinstance(b, TensorMath) and a._data.dtype == b._data.dtype and not (
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
    if not isinstance(b, TensorMath):
        raise TypeError(f"{op}(): argument 'other' must be a Tensor, not {type(b).__name__}")
    return a


def _check_bool_sub(a, b):
    if (a._data.dtype == np.bool_ or isinstance(b, (bool, np.bool_))
            or isinstance(b, TensorMath) and b._data.dtype == np.bool_):
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
    other_bool = isinstance(other, bool) or (isinstance(other, TensorMath)
                                             and other._data.dtype == np.bool_)
    exponent_is_tensor = reverse or isinstance(other, TensorMath)
    if a._data.dtype == np.bool_ and other_bool and exponent_is_tensor:
        raise RuntimeError("pow: not implemented for bool tensors")
    return a


# --------------------------------------------------------------------- matmul, softmax
def _matmul(a, b):
    for x in (a, b):
        if not isinstance(x, TensorMath):
            raise TypeError(f"matmul: expected Tensor operands, got {type(x).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")
    if a._data.dtype == np.bool_:
        raise RuntimeError("matmul: not implemented for bool tensors")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({k_a} != {k_b})")
    return M.MatMul.apply(a, b)


def _softmax(fn, t, dim):
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"{fn.__name__.lower()}: not implemented for {t.dtype} tensors")
    d = _dim(dim, t.ndim)
    if t.ndim == 0:
        return fn.apply(t.reshape(1), dim=0).reshape(())
    return fn.apply(t, dim=d)


# --------------------------------------------------------------------- reductions
def _reduce_dims(t, dim, keepdim):
    """(tensor, normalised dims, keepdim) for a reduction. A 0-d tensor reduced over dim 0 or -1
    becomes a 1-element one, reduced to 0-d again whatever ``keepdim`` says (as PyTorch)."""
    if dim is None:
        return t, None, keepdim
    dims = _dims(dim, t.ndim)
    if t.ndim == 0:
        return t.reshape(1), 0, False
    return t, dims, keepdim


def _moment(fn, t, dim, unbiased, keepdim, correction):
    if t._data.dtype.kind != "f":
        raise RuntimeError(f"std and var only support floating point dtypes, got {t.dtype}")
    ddof = correction if correction is not None else int(bool(unbiased))
    x, dims, keepdim = _reduce_dims(t, dim, keepdim)
    return fn.apply(x, dim=dims, keepdim=keepdim, correction=ddof)


def _extreme_dim(fn, t, dim, keepdim):
    d = _dim(dim, t.ndim)
    if t.ndim == 0:
        values, indices = fn.apply(t.reshape(1), dim=0, keepdim=False)
        return values_indices(values, indices)
    return values_indices(*fn.apply(t, dim=d, keepdim=keepdim))


def _arg(t, fn, dim, keepdim):
    if t._data.dtype == np.bool_:
        raise RuntimeError(f"{fn.__name__.lower()}(): does not support bool input")
    t = t.detach()  # an index has no gradient: the reshape below must not touch t's history
    if dim is None:
        return fn.apply(t.reshape(-1) if t.ndim else t.reshape(1), dim=0, keepdim=False)
    d = _dim(dim, t.ndim)
    if t.ndim == 0:
        return fn.apply(t.reshape(1), dim=0, keepdim=False)
    return fn.apply(t, dim=d, keepdim=keepdim)
