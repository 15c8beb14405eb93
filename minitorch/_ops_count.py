"""Counting and searching ops with integer results and no gradient: ``unique``, ``bincount``,
``searchsorted``, ``bucketize`` (numpy's, with torch's dtypes, NaN handling and errors)."""
import numpy as np

from ._registry import declare
from ._tensor_shape import _dim
from .autograd.variable import TensorBase

__all__ = ["unique", "bincount", "searchsorted", "bucketize"]


def _tensor(array):
    import minitorch
    return minitorch.tensor(np.asarray(array))


@declare(out=False)
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values (sorted; of whole slices along ``dim``), optionally with each
    element's position among them (``return_inverse``) and their counts. NaNs stay apart, as
    in torch."""
    a = input._data
    axis = None if dim is None else _dim(dim, input.ndim)
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis,
                                        equal_nan=False)
    out = [_tensor(values.astype(a.dtype, copy=False))]
    if return_inverse:
        out.append(_tensor(inverse.reshape(a.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        out.append(_tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


_BAD_BINCOUNT = "bincount only supports 1-d non-negative integral inputs."


@declare(out=False)
def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-d non-negative integer tensor (summing
    ``weights`` instead of counting, in their dtype)."""
    a = input._data
    if a.dtype.kind == "f":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{'Float' if a.dtype == np.float32 else 'Double'}'")
    if a.ndim != 1 or a.dtype.kind not in "iub" or (a.size and a.min() < 0):
        raise RuntimeError(_BAD_BINCOUNT)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _tensor(np.bincount(a, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    return _tensor(np.bincount(a, weights=w, minlength=minlength).astype(
        w.dtype if w.dtype.kind == "f" else np.float64))


@declare(method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,  # noqa: A002
                 sorter=None):
    """Where each value of ``input`` would go in the last dim of ``sorted_sequence`` (1-d, or
    with the leading dims of ``input``): the first such place, or with ``right``/``side='right'``
    the last."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"side can only be 'left' or 'right' but got '{side}'")
        if right and side == "left":
            raise RuntimeError("side and right can't be set to opposites, got side of left while "
                               "right was True")
        right = side == "right"
    seq = sorted_sequence._data
    values = input._data if isinstance(input, TensorBase) else np.asarray(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, axis=-1)
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=how)
    else:
        if seq.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                               f"the first N-1 dimensions of boundaries tensor and input value "
                               f"tensor must match, but we got boundaries tensor {list(seq.shape)}"
                               f" and input value tensor {list(values.shape)}")
        rows_s, rows_v = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)])
        out = out.reshape(values.shape)
    return _tensor(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


@declare(method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False):  # noqa: A002
    """The bucket of ``boundaries`` (1-d, sorted) each value falls in (``searchsorted``)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
