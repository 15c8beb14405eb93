"""Indexing and reordering ops, declared once: gather/scatter, index_select, masked_fill/select,
where (method), nonzero, flip/roll/repeat/tile, tril/triu, diag,
repeat_interleave. Arguments are checked here with torch's messages; the Functions are in
``ops/index.py`` (and ``ops/shape.Index`` for the advanced-indexing ones).
"""
import numbers
import warnings

import numpy as np

from . import _promotion as P
from ._registry import declare
from .autograd import inplace as I
from ._ops_shape import where as _where
from ._tensor_shape import _dim
from .ops import elementwise as E
from .ops import index as X
from .ops import shape as S

__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill", "masked_select",
           "where_method", "nonzero", "argwhere", "flip", "roll",
           "repeat", "tile", "tril", "triu", "diag", "repeat_interleave"]


def _array(x):
    return x._data if hasattr(x, "_data") else np.asarray(x)


def _index_array(op, index, kinds="il", empty_ok=False):
    a = _array(index)
    if empty_ok and a.size == 0:  # torch takes an empty index of any dtype in gather/scatter
        return a.astype(np.int64)
    if a.dtype.kind not in "iu" or (kinds == "l" and a.dtype != np.int64):
        want = "int64" if kinds == "l" else "int32 or int64"
        raise RuntimeError(f"{op}(): Expected dtype {want} for index")
    return a.astype(np.int64, copy=False)


def _check_along(op, input, dim, index, src=None):
    """torch's checks of a gather/scatter index: same rank, no larger than the input (and the
    src) outside ``dim``, every position in range. An empty index (any rank) changes nothing."""
    if index.size == 0:
        return np.zeros((0,) * max(input.ndim, 1), np.int64)
    if index.ndim != max(input.ndim, 1) and not (input.ndim == 0 and index.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    shape = input.shape if input.ndim else (1,)
    for d, (i, n) in enumerate(zip(index.shape, shape)):
        if d != dim and i > n:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self {list(shape)} "
                               f"apart from dimension {dim}")
        if src is not None and src.ndim and i > src.shape[d]:
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than src "
                               f"{list(src.shape)} apart from dimension {dim}")
    if index.size and (index.min() < -shape[dim] or index.max() >= shape[dim]):
        bad = index.max() if index.max() >= shape[dim] else index.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size "
                           f"{shape[dim]}")
    return index % shape[dim] if index.size and index.min() < 0 else index


def _zero_dim_index(input, index):
    """scatter's 0-d index into a 0-d or 1-d input: one position."""
    a = _array(index)
    return a.reshape(1) if a.ndim == 0 and input.ndim <= 1 else index


def _rank1(input):
    """A 0-d input works as one element along dim 0 (torch accepts dim 0/-1 there)."""
    return input.reshape(1) if input.ndim == 0 else input


@declare()
def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` (dim 0): values picked along ``dim``."""
    d = _dim(dim, input.ndim)
    idx = _index_array("gather", index, empty_ok=True)
    if idx.ndim == 0 and input.ndim <= 1:  # a 0-d index picks one element, as torch
        one = _check_along("gather", input, d, idx.reshape(1))
        return X.Gather.apply(_rank1(input), one, dim=0).reshape(())
    shape = idx.shape
    idx = _check_along("gather", input, d, idx)
    out = X.Gather.apply(_rank1(input), idx.reshape(-1) if input.ndim == 0 else idx, dim=d)
    return out.reshape(shape) if input.ndim == 0 or out.shape != shape else out


def _scatter_src(op, input, src, value):
    if src is None and value is None:
        raise TypeError(f"{op}() missing the 'src' or 'value' argument")
    src = value if src is None else src
    if hasattr(src, "_data"):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        return src
    return P.checked_scalar(src, input._data.dtype)   # (uint8 takes -2 as 254, as torch)


@declare(inplace="scatter_")
def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``;
    ``reduce="add"``/``"multiply"`` combines with what is there instead."""
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
    d = _dim(dim, input.ndim)
    src = _scatter_src("scatter", input, src, value)
    index = _zero_dim_index(input, index)
    idx = _check_along("scatter", input, d, _index_array("scatter", index, empty_ok=True),
                       src if hasattr(src, "_data") else None)
    if reduce is not None and (input.requires_grad or getattr(src, "requires_grad", False)):
        raise RuntimeError("the derivative for 'scatter' with reduce is not implemented")
    x = _rank1(input)
    out = X.Scatter.apply(x, idx.reshape(-1) if input.ndim == 0 else idx, src, dim=d,
                          reduce=reduce)
    return out.reshape(()) if input.ndim == 0 else out


@declare(inplace="scatter_add_")
def scatter_add(input, dim, index, src):
    """``input`` with ``src`` added at ``index`` along ``dim`` (repeated positions add)."""
    d = _dim(dim, input.ndim)
    if not hasattr(src, "_data"):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    src = _scatter_src("scatter_add", input, src, None)
    index = _zero_dim_index(input, index)
    idx = _check_along("scatter_add", input, d, _index_array("scatter_add", index, empty_ok=True), src)
    x = _rank1(input)
    out = X.ScatterAdd.apply(x, idx.reshape(-1) if input.ndim == 0 else idx, _rank1(src), dim=d)
    return out.reshape(()) if input.ndim == 0 else out


@declare()
def index_select(input, dim, index):
    """The slices ``index`` along ``dim`` (a copy; repeated indices add their gradients)."""
    d = _dim(dim, input.ndim)
    idx = _index_array("index_select", index)
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    n = input.shape[d] if input.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError("index out of range in self")
    if input.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        return S.Index.apply(input.reshape(1), key=(idx.reshape(-1) % 1,)).reshape(())
    return X.IndexSelect.apply(input, idx.reshape(-1) % max(n, 1), dim=d)


def _mask(op, mask, what="mask"):
    m = _array(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got {what} with dtype "
                           f"{_dtype_name(m.dtype)}")
    return m


def _dtype_name(dt):
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}.get(
        str(dt), str(dt))


@declare()
def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is True (the result has input's dtype)."""
    m = _mask("masked_fill_", mask)
    if hasattr(value, "_data"):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        v = value if value._data.dtype == input._data.dtype else value.type(input._data.dtype)
    else:
        v = P.checked_scalar(value, input._data.dtype)
    try:
        np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: the shape of the mask {list(m.shape)} must be "
                           f"broadcastable with the shape of the input {list(input.shape)}"
                           ) from None
    # the mask tensor itself (not its array): saved, so changing it before backward is torch's
    # version error
    return E.MaskedFill.apply(mask if hasattr(mask, "_data") else m, v, input)


@declare()
def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-D tensor."""
    m = _array(mask)
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(input.shape, m.shape) or (1,)  # a 0-d result is 1-D
    x = input.expand(shape) if input.shape != shape else input
    if hasattr(mask, "_data") and m.shape == shape:
        return X.MaskedSelect.apply(x, mask)  # (saved: a later in-place change is caught)
    return X.MaskedSelect.apply(x, np.broadcast_to(m, shape))


@declare(method="where", function=None)
def where_method(input, condition, other):
    """``x.where(condition, other)``: ``where(condition, x, other)``."""
    return _where(condition, input, other)


@declare()
def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one 1-D per dim."""
    a = input._data
    if as_tuple:
        return tuple(input._new(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    if a.ndim == 0:  # torch: shape (1, 0) for a nonzero scalar, (0, 0) for a zero one
        return input._new(np.zeros((int(a != 0), 0), np.int64))
    return input._new(np.argwhere(a).astype(np.int64))


@declare()
def argwhere(input):
    return nonzero(input)


# --------------------------------------------------------------------- reordering, tiling
def _dims_list(op, dims, ndim):
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    out = [_dim(int(d), ndim) for d in dims]
    for d in out:
        if out.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(out)


def _varargs(args):
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


@declare()
def flip(input, *dims):
    """A copy with the order of the elements reversed along ``dims``."""
    dims = _dims_list("flip", _varargs(dims), input.ndim)
    return X.Flip.apply(input, dims=dims) if input.ndim else X.Flip.apply(input, dims=())


@declare()
def roll(input, shifts, dims=None):
    """Elements shifted by ``shifts`` along ``dims`` (None: over the flattened tensor)."""
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return X.Roll.apply(input, shifts=shifts, dims=None)
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(_dim(d, input.ndim) for d in dims)
    return X.Roll.apply(input, shifts=shifts, dims=dims)


@declare(function=None)
def repeat(input, *sizes):
    """The tensor tiled ``sizes`` times (leading sizes add dims)."""
    sizes = tuple(int(s) for s in _varargs(sizes))
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: "
                           f"{list(sizes)}")
    return X.Repeat.apply(input, sizes=sizes)


@declare()
def tile(input, *dims):
    """``repeat``, with fewer ``dims`` than the tensor has padded by leading 1s."""
    dims = tuple(int(s) for s in _varargs(dims))
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _triangle(op, input, diagonal, upper):
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    return X.Triangle.apply(input, diagonal=int(diagonal), upper=upper)


@declare()
def tril(input, diagonal=0):
    """The lower triangle of the last two dims (on and below ``diagonal``); the rest 0."""
    return _triangle("tril", input, diagonal, False)


@declare()
def triu(input, diagonal=0):
    """The upper triangle of the last two dims (on and above ``diagonal``); the rest 0."""
    return _triangle("triu", input, diagonal, True)


# masked_fill_, tril_ and triu_ write only the selected elements, so torch lets them write into
# an expanded tensor (masked_fill_ with a deprecation warning) where the other in-place ops refuse:
# there, unrecorded, they write with a where-mask; otherwise the usual in-place protocol.
def _write_selected(input, op, select, value, compute, *others):
    data = input._data
    expanded = data.size and any(st == 0 and n > 1 for st, n in zip(data.strides, data.shape))
    if not expanded or I.recording(input, *others):
        return input._inplace(op, compute, *others)
    try:
        select = np.broadcast_to(select, data.shape)
    except ValueError:
        compute()  # the out-of-place op's own error for a mask of the wrong shape
        raise
    I.check_writable(input, op, overlap_ok=True)
    if op == "masked_fill_":
        warnings.warn("Use of masked_fill_ on expanded tensors is deprecated. Please clone() the "
                      "tensor before performing this operation.", UserWarning, stacklevel=3)
    np.copyto(data, value, casting="unsafe", where=select)
    input._bump_version()
    return input


@declare(method=True, function=None)
def masked_fill_(input, mask, value):
    """In-place ``masked_fill``."""
    return _write_selected(input, "masked_fill_", _mask("masked_fill_", mask), _array(value),
                           lambda: masked_fill(input, mask, value), mask, value)


def _outside(input, diagonal, upper):
    rows, cols = input.shape[-2:] if input.ndim >= 2 else (0, 0)
    keep = np.triu(np.ones((rows, cols), bool), diagonal) if upper else \
        np.tril(np.ones((rows, cols), bool), diagonal)
    return ~keep


@declare(method=True, function=None)
def tril_(input, diagonal=0):
    """In-place ``tril``."""
    return _write_selected(input, "tril_", _outside(input, diagonal, False), 0,
                           lambda: tril(input, diagonal))


@declare(method=True, function=None)
def triu_(input, diagonal=0):
    """In-place ``triu``."""
    return _write_selected(input, "triu_", _outside(input, diagonal, True), 0,
                           lambda: triu(input, diagonal))


@declare()
def diag(input, diagonal=0):
    """1-D: the square matrix with ``input`` on ``diagonal``; 2-D: that diagonal (a copy)."""
    if input.ndim == 1:
        return X.DiagEmbed.apply(input, offset=int(diagonal))
    if input.ndim == 2:
        return input.diagonal(int(diagonal)).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@declare()
def repeat_interleave(input, repeats, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place."""
    r = _array(repeats)
    if r.dtype.kind not in "iu":
        raise RuntimeError("repeat_interleave: repeats must be an integer or an integer tensor")
    if (r < 0).any():
        raise RuntimeError("repeats can not be negative")
    if input.ndim == 0 and dim is not None:
        raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got "
                         f"{dim})")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(dim, input.ndim)
    n = x.shape[d] if x.ndim else 1
    if r.ndim and r.size not in (1, n):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
    idx = np.repeat(np.arange(n, dtype=np.int64), r.reshape(-1) if r.ndim else int(r))
    return index_select(x if x.ndim else x.reshape(1), d, idx)
