"""Sorting ops, declared once: sort, argsort, topk (values and int64 indices; the values are
differentiable, through a gather that saves only the indices, as torch's)."""
import numpy as np

from ._registry import declare
from ._tensor_shape import _dim
from ._ops_index import _rank1
from .ops import index as X
from .return_types import median as _median_result, sort as _sort_result, topk as _topk_result

__all__ = ["sort", "argsort", "topk", "median"]


def _order(a, dim, descending):
    """Stable indices that sort ``a`` along ``dim``; NaN is the largest value, as in torch
    (last ascending, first descending), and equal values keep their order either way."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # a stable ascending sort of the reversed array, reversed: descending, ties in index order
    n = a.shape[dim]
    rev = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return np.flip(n - 1 - rev, dim)


def _picked(result, input, x, idx, d, node):
    """(values, indices) of the positions ``idx`` along ``d``: the values differentiable."""
    zero_d = input.ndim == 0   # (values of their own there, as torch's: no view of a gather)
    values = X.Gather.apply(x, idx, dim=d, saves_input=False, out_shape=() if zero_d else None,
                            node=node)
    return result(values, input._new(idx.reshape(()) if zero_d else idx))


def _sort_args(op, args, kwargs):
    """torch's two signatures: ``(dim=-1, descending=False)`` and, with ``stable``, one where
    every argument is a keyword (``x.sort(1, stable=True)`` is a TypeError there too)."""
    stable = kwargs.pop("stable", None)
    if stable is not None and args:
        raise TypeError(f"{op}() received an invalid combination of arguments: with stable=, "
                        "dim and descending must be keywords")
    if len(args) > 2 or set(kwargs) - {"dim", "descending"}:
        raise TypeError(f"{op}() received an invalid combination of arguments")
    named = dict(zip(("dim", "descending"), args), **kwargs)
    return named.get("dim", -1), bool(named.get("descending", False))


@declare()
def sort(input, *args, **kwargs):
    """(values, indices) sorted along ``dim``; ties keep their order (torch's CPU sort is
    stable, ``stable=True`` or not)."""
    dim, descending = _sort_args("sort", args, kwargs)
    x = _rank1(input)
    d = _dim(dim, input.ndim)
    idx = _order(x._data, d, descending)
    return _picked(_sort_result, input, x, idx, d, "SortBackward0")


@declare()
def argsort(input, *args, **kwargs):
    """The indices of ``sort``."""
    dim, descending = _sort_args("argsort", args, kwargs)
    x = _rank1(input)
    idx = _order(x._data, _dim(dim, input.ndim), descending)
    return input._new(idx.reshape(input.shape))


@declare()
def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """(values, indices) of the ``k`` largest (or smallest) along ``dim``, in order."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    x = _rank1(input)
    d = _dim(dim, input.ndim)
    n = x.shape[d]
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    k = 1 if input.ndim == 0 else k  # torch: topk(0) of a 0-d tensor is the tensor too
    idx = np.take(_order(x._data, d, largest), np.arange(k), axis=d)
    return _picked(_topk_result, input, x, idx, d, "TopkBackward0")


@declare()
def median(input, dim=None, keepdim=False):  # noqa: A002
    """The lower median (of all elements, or (values, indices) along ``dim``); NaN where a NaN
    is present, as torch's."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"median_cpu\" not implemented for 'Bool'")
    if dim is None:
        if input.numel() == 0:   # (torch: NaN)
            return input._new(np.full((), np.nan, input._data.dtype))
        return _median_along(input.reshape(-1), 0, (), "MedianBackward0")[0]
    x = _rank1(input)
    d = _dim(dim, input.ndim)
    kept = (1,) if keepdim else ()
    shape = () if input.ndim == 0 else tuple(input.shape[:d]) + kept + tuple(input.shape[d + 1:])
    return _median_result(*_median_along(x, d, shape, "MedianBackward1"))


def _median_along(x, d, shape, node):
    """(values, indices) of shape ``shape``: the element at rank (n - 1) // 2 of each line along
    ``d``, or its first NaN (NaN sorts last)."""
    a = x._data
    order = _order(a, d, False)
    nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    rank = np.where(nan.any(axis=d, keepdims=True), (~nan).sum(axis=d, keepdims=True),
                    (a.shape[d] - 1) // 2)
    idx = np.take_along_axis(order, rank, axis=d)
    values = X.Gather.apply(x, idx, dim=d, saves_input=False, out_shape=shape, node=node)
    return values, x._new(idx.reshape(shape))
