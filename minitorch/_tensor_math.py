"""Tensor arithmetic, comparisons, unary maths and reductions (a mixin of ``Tensor``).

Each operator picks the result dtype the way PyTorch does (``_promote``), checks shapes, then
calls one ``Function.apply`` from ``minitorch.ops``.
"""
import numbers

import numpy as np

from . import dtypes
from .ops import elementwise as E
from .ops import matmul as M
from .ops import reduce as R
from .ops import softmax as SM
from ._tensor_shape import _as_tuple, _dim, _dims
from .autograd.variable import TensorBase as Tensor  # isinstance checks; results via ._new
from .ops import activation as A

__all__ = ["TensorMath"]

class TensorMath:
    __slots__ = ()

    def _binary(self, other, fn, reverse=False, true_div=False):
        a, b = _promote(self, other, true_div)
        if reverse:
            a, b = b, a
        _check_broadcast(fn.__name__.lower(), np.shape(a._data if isinstance(a, Tensor) else a),
                         np.shape(b._data if isinstance(b, Tensor) else b))
        return fn.apply(a, b)

    def _compare(self, other, op):
        other = other._data if isinstance(other, Tensor) else other
        return self._new(np.asarray(op(self._data, other)))
    def __add__(self, o): return self._binary(o, E.Add)
    def __radd__(self, o): return self._binary(o, E.Add, reverse=True)
    def __sub__(self, o): return self._binary(o, E.Sub)
    def __rsub__(self, o): return self._binary(o, E.Sub, reverse=True)
    def __mul__(self, o): return self._binary(o, E.Mul)
    def __rmul__(self, o): return self._binary(o, E.Mul, reverse=True)
    def __truediv__(self, o): return self._binary(o, E.Div, true_div=True)
    def __rtruediv__(self, o): return self._binary(o, E.Div, reverse=True, true_div=True)
    def __pow__(self, o): return self._binary(o, E.Pow)
    def __rpow__(self, o): return self._binary(o, E.Pow, reverse=True)
    def __matmul__(self, o): return _matmul(*_promote(self, o))
    def __rmatmul__(self, o): return _matmul(*reversed(_promote(self, o)))
    def __neg__(self): return E.Neg.apply(self)
    def __pos__(self): return self
    def __abs__(self): return self.abs()
    def __eq__(self, o): return self._compare(o, np.equal)
    def __ne__(self, o): return self._compare(o, np.not_equal)
    def __lt__(self, o): return self._compare(o, np.less)
    def __le__(self, o): return self._compare(o, np.less_equal)
    def __gt__(self, o): return self._compare(o, np.greater)
    def __ge__(self, o): return self._compare(o, np.greater_equal)
    def __invert__(self): return self._new(np.invert(self._data))
    def __and__(self, o): return self._compare(o, np.bitwise_and)
    def __or__(self, o): return self._compare(o, np.bitwise_or)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    matmul = __matmul__
    neg = __neg__
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def pow(self, exponent): return self.__pow__(exponent)
    def exp(self): return E.Exp.apply(self)
    def log(self): return E.Log.apply(self)
    def sqrt(self): return E.Sqrt.apply(self)
    def abs(self): return E.Abs.apply(self)
    def tanh(self): return E.Tanh.apply(self)
    def sigmoid(self): return E.Sigmoid.apply(self)

    def relu(self):
        return A.ReLU.apply(self)

    def maximum(self, other): return self._binary(other, E.Maximum)
    def minimum(self, other): return self._binary(other, E.Minimum)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def softmax(self, dim):
        return SM.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim):
        return SM.LogSoftmax.apply(self, dim=dim)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        t = self.type(dtype) if dtype is not None else self
        if t._data.dtype.kind in "biu":
            t = t.type(dtypes.int64)
        return R.Sum.apply(t, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {self.dtype}")
        return R.Mean.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        ddof = correction if correction is not None else int(unbiased)
        mu = self.mean(dim, keepdim=True)
        n = self.numel() if dim is None else int(np.prod([self.shape[d] for d in _as_tuple(dim)]))
        return ((self - mu) ** 2).sum(dim, keepdim=keepdim) / max(n - ddof, 0)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return R.MaxAll.apply(self)
        return _values_indices(R.MaxDim.apply(self, dim=_dim(dim, self.ndim), keepdim=keepdim))

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return R.MinAll.apply(self)
        return _values_indices(R.MinDim.apply(self, dim=_dim(dim, self.ndim), keepdim=keepdim))

    def argmax(self, dim=None, keepdim=False):
        return self._new(_arg(self._data, np.argmax, dim, keepdim))

    def argmin(self, dim=None, keepdim=False):
        return self._new(_arg(self._data, np.argmin, dim, keepdim))

    def all(self):
        return self._new(np.asarray(np.all(self._data)))

    def any(self):
        return self._new(np.asarray(np.any(self._data)))


def _promote(a, b, true_div=False):
    """PyTorch's type promotion for ``a op b`` (a is a Tensor; b a Tensor or Python scalar)."""
    if isinstance(b, Tensor):
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            dt = da
        elif da.kind == "f" and db.kind != "f":
            dt = da
        elif db.kind == "f" and da.kind != "f":
            dt = db
        else:
            dt = np.promote_types(da, db)
        if true_div and dt.kind != "f":
            dt = np.dtype(np.float32)
        return (a if da == dt else a.type(dt)), (b if db == dt else b.type(dt))
    if isinstance(b, np.ndarray):
        return _promote(a, a._new(b), true_div)
    if not isinstance(b, (numbers.Number, np.generic)):
        raise TypeError(f"unsupported operand type for a Tensor op: {type(b).__name__}")
    da = a._data.dtype
    if da.kind == "f":
        dt = da
    elif isinstance(b, (float, np.floating)):
        dt = np.dtype(np.float32)
    elif da.kind == "b" and not isinstance(b, (bool, np.bool_)):
        dt = np.dtype(np.int64)
    else:
        dt = da
    if true_div and dt.kind != "f":
        dt = np.dtype(np.float32)
    return (a if da == dt else a.type(dt)), np.asarray(b, dtype=dt)

def _check_broadcast(op, sa, sb):
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast "
                         "together") from None

def _matmul(a, b):
    a = a if isinstance(a, Tensor) else b._new(a)
    b = b if isinstance(b, Tensor) else a._new(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({k_a} != {k_b})")
    return M.MatMul.apply(a, b)

def _values_indices(pair):
    from .autograd import values_indices

    return values_indices(*pair)

def _arg(data, fn, dim, keepdim):
    if dim is None:
        return np.asarray(fn(data), dtype=np.int64)
    out = fn(data, axis=dim)
    if keepdim:
        out = np.expand_dims(out, dim)
    return np.asarray(out, dtype=np.int64)
