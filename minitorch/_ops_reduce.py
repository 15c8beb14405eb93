"""Reductions and running reductions, each declared once (``_registry``); the Functions live in
``ops/reduce.py``, ``ops/cumulative.py`` and ``ops/vector_norm.py``.

A 0-d tensor is reduced over dim 0 or -1 as PyTorch does (``_op_args._reduce_dims``).
"""
import numbers

import numpy as np

from . import dtypes
from ._op_args import _as_float, _reduce_dims
from ._registry import _TYPE, declare
from ._tensor_shape import _dim
from .autograd import values_indices
from .autograd.grad_mode import is_grad_enabled
from .autograd.variable import TensorBase
from .ops import cumulative as C
from .ops import reduce as R
from .ops import vector_norm as VN

__all__ = ["sum", "mean", "prod", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
           "all", "any", "cumsum", "cumprod", "logsumexp", "norm"]


def _as_dtype(out, t):
    """numpy widens int32 sums and products to int64; torch keeps the dtype asked for."""
    return out if out._data.dtype == t._data.dtype else out.type(t._data.dtype)


def _int64_unless(t, dtype):
    """``dtype`` if given, else bool and integer tensors widened to int64 (torch's sum/prod)."""
    if dtype is not None:
        np_dtype = dtypes.to_numpy_dtype(dtype)
        if np_dtype.kind != "f" and t.requires_grad and is_grad_enabled():
            raise RuntimeError(f"Autograd not support dtype: {_TYPE[np_dtype.name]}")
        return t.type(dtype)
    return t.type(np.int64) if t._data.dtype.kind in "biu" else t


@declare()
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001,A002 - PyTorch's names
    """The sum over ``dim`` (None: all); bool and integer tensors sum in int64 unless ``dtype``."""
    t, dims, keepdim = _reduce_dims(_int64_unless(input, dtype), dim, keepdim)
    return _as_dtype(R.Sum.apply(t, dim=dims, keepdim=keepdim), t)


@declare()
def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The mean over ``dim``: floating inputs (or a floating ``dtype`` to compute in)."""
    if dtype is not None:
        if dtypes.to_numpy_dtype(dtype).kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be "
                               f"either a floating point or complex dtype. Got: "
                               f"{_TYPE[dtypes.to_numpy_dtype(dtype).name]}")
        input = input.type(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {_TYPE[input._data.dtype.name]}")
    t, dims, keepdim = _reduce_dims(input, dim, keepdim)
    return R.Mean.apply(t, dim=dims, keepdim=keepdim)


@declare()
def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The product over one ``dim`` (None: all elements), int64 for bool/integer inputs."""
    if dim is not None and not isinstance(dim, numbers.Integral):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    t, dims, keepdim = _reduce_dims(_int64_unless(input, dtype), dim, keepdim)
    return _as_dtype(C.Prod.apply(t, dim=dims, keepdim=keepdim), t)


def _moment(fn, t, dim, unbiased, keepdim, correction):
    if t._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    ddof = correction if correction is not None else int(bool(unbiased))
    x, dims, keepdim = _reduce_dims(t, dim, keepdim)
    return fn.apply(x, dim=dims, keepdim=keepdim, correction=ddof,
                    whole=dim is None or t.ndim == 0)


@declare()
def var(input, dim=None, unbiased=True, keepdim=False, *, correction=None):  # noqa: A002
    """The variance over ``dim`` with ``correction`` (default 1: Bessel's; ``unbiased`` is its
    older spelling)."""
    return _moment(R.Var, input, dim, unbiased, keepdim, correction)


@declare()
def std(input, dim=None, unbiased=True, keepdim=False, *, correction=None):  # noqa: A002
    """sqrt(var(input, dim, correction)); gradient 0 where the std is 0, as torch."""
    return _moment(R.Std, input, dim, unbiased, keepdim, correction)


def _extreme(all_fn, dim_fn, pairwise, t, dim, keepdim):
    if isinstance(dim, TensorBase):
        return pairwise(t, dim)  # x.max(other): the elementwise maximum
    if dim is None:
        return all_fn.apply(t)
    d = _dim(dim, t.ndim)
    if t.ndim == 0:
        return values_indices(*dim_fn.apply(t.reshape(1), dim=0, keepdim=False))
    return values_indices(*dim_fn.apply(t, dim=d, keepdim=keepdim))


@declare()
def max(input, dim=None, keepdim=False):  # noqa: A001,A002
    """The largest element, or (values, indices) along ``dim``; ``max(a, b)`` is maximum."""
    return _extreme(R.MaxAll, R.MaxDim, lambda a, b: a.maximum(b), input, dim, keepdim)


@declare()
def min(input, dim=None, keepdim=False):  # noqa: A001,A002
    """The smallest element, or (values, indices) along ``dim``; ``min(a, b)`` is minimum."""
    return _extreme(R.MinAll, R.MinDim, lambda a, b: a.minimum(b), input, dim, keepdim)


@declare()
def amax(input, dim=(), keepdim=False):  # noqa: A002
    t, dims, keepdim = _reduce_dims(input, None if dim == () else dim, keepdim)
    return R.Amax.apply(t, dim=dims, keepdim=keepdim)


@declare()
def amin(input, dim=(), keepdim=False):  # noqa: A002
    t, dims, keepdim = _reduce_dims(input, None if dim == () else dim, keepdim)
    return R.Amin.apply(t, dim=dims, keepdim=keepdim)


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


@declare()
def argmax(input, dim=None, keepdim=False):  # noqa: A002
    return _arg(input, R.ArgMax, dim, keepdim)


@declare()
def argmin(input, dim=None, keepdim=False):  # noqa: A002
    return _arg(input, R.ArgMin, dim, keepdim)


def _uint8_kept(out, input):  # noqa: A002
    return out.type(np.uint8) if input._data.dtype == np.uint8 else out


@declare()
def all(input, dim=None, keepdim=False):  # noqa: A001,A002
    """True where every element over ``dim`` is non-zero: a bool tensor (uint8 for a uint8
    input, as torch keeps that legacy)."""
    t, dims, keepdim = _reduce_dims(input, dim, keepdim)
    return _uint8_kept(R.Logical.apply(t, fn=np.all, dim=dims, keepdim=keepdim), input)


@declare()
def any(input, dim=None, keepdim=False):  # noqa: A001,A002
    """True where some element over ``dim`` is non-zero: a bool tensor (uint8 for a uint8
    input, as torch keeps that legacy)."""
    t, dims, keepdim = _reduce_dims(input, dim, keepdim)
    return _uint8_kept(R.Logical.apply(t, fn=np.any, dim=dims, keepdim=keepdim), input)


def _scan(fn, t, dim, dtype):
    t = _int64_unless(t, dtype)
    if t._data.dtype == np.bool_ and t.ndim:  # (torch copies a 0-d one)
        raise NotImplementedError(f'"{fn.__name__.lower()}" not implemented for \'Bool\'')
    d = _dim(dim, t.ndim)
    if t.ndim == 0:
        return _as_dtype(fn.apply(t.reshape(1), dim=0), t).reshape(())
    return _as_dtype(fn.apply(t, dim=d), t)


@declare()
def cumsum(input, dim, *, dtype=None):  # noqa: A002
    """Running sums along ``dim`` (int64 for bool/integer inputs)."""
    return _scan(C.CumSum, input, dim, dtype)


@declare()
def cumprod(input, dim, *, dtype=None):  # noqa: A002
    """Running products along ``dim``; exact gradients through zeros."""
    return _scan(C.CumProd, input, dim, dtype)


@declare()
def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log(sum(exp(input), dim)), computed stably (shifted by the detached maximum)."""
    x, dims, keepdim = _reduce_dims(_as_float(input), dim, keepdim)
    return R.LogSumExp.apply(x, dim=dims, keepdim=keepdim)


_P_NAMES = {"fro": 2.0, "inf": np.inf}


@declare()
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """The vector p-norm over ``dim`` (None: all elements): p = 2 / "fro", 1, inf, -inf, 0 or
    any float. Matrix norms ("nuc") are not implemented."""
    if isinstance(p, str) and p not in _P_NAMES:
        raise NotImplementedError(f"norm: p={p!r} is not implemented (vector norms only)")
    ord = _P_NAMES.get(p, p) if isinstance(p, str) else float(2.0 if p is None else p)
    return _vector_norm("norm", input, ord, dim, keepdim, dtype)


def _vector_norm(op, input, ord, dim, keepdim, dtype):
    if dtype is not None:
        input = input.type(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {input.dtype}")
    t, dims, keepdim = _reduce_dims(input, dim, keepdim)
    return VN.VectorNorm.apply(t, ord=ord, dim=dims, keepdim=keepdim)
