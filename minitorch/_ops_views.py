"""Ops whose results are views of their input: split, chunk, unbind, tensor_split, narrow,
movedim, diagonal, Tensor.unfold (declared once; methods and ``mt.`` functions come from the
registry).

Each piece is made by the existing view Functions (``Slice``, ``Permute``, ``Diagonal``), so it
shares storage and version counter with its input and an in-place op on it reaches the base
(CopySlices). The pieces of split/chunk/unbind/tensor_split are the outputs of one op in torch,
which refuses a recorded in-place op on them (tensor_split's are plain slices): they carry
``_multi_output`` for that check (``autograd.inplace.check_inplace``).
"""
import numbers

import numpy as np

from ._registry import declare
from ._tensor_shape import _dim
from .ops import index as X
from .ops import shape as S

__all__ = ["split", "chunk", "unbind", "tensor_split", "narrow", "movedim", "diagonal", "unfold"]


def _pieces(input, dim, bounds, op=None):
    """Views of ``input`` along ``dim`` for each (start, stop) in ``bounds``; ``op`` names the
    multi-output op they come from (tensor_split's pieces are plain slices in torch)."""
    lead = (slice(None),) * dim
    out = tuple(S.Slice.apply(input, key=lead + (slice(a, b), Ellipsis)) for a, b in bounds)
    if op is not None:
        for i, o in enumerate(out):
            o._multi_output = (op, i)
    return out


def _bounds(sizes):
    stops = np.cumsum(sizes).tolist()
    return list(zip([0] + stops[:-1], stops))


@declare()
def split(input, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    _at_least_1d("split", input)
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size="
                               f"{size}")
        if size == 0:
            if n:
                raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            return _pieces(input, d, [(0, 0)], "Split")
        count = max(-(-n // size), 1)
        return _pieces(input, d, [(i * size, min((i + 1) * size, n)) for i in range(count)],
                       "Split")
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _pieces(input, d, _bounds(sizes), "SplitWithSizes")


def _at_least_1d(op, input):
    if input.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")


@declare()
def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of ``ceil(n / chunks)`` along ``dim`` (torch's rule)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    _at_least_1d("chunk", input)
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if n == 0:
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


@declare()
def unbind(input, dim=0):
    """The slices ``input.select(dim, i)``, each a view."""
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, input.ndim)
    lead = (slice(None),) * d
    out = tuple(S.Slice.apply(input, key=lead + (i, Ellipsis)) for i in range(input.shape[d]))
    for i, o in enumerate(out):
        o._multi_output = ("Unbind", i)
    return out


@declare()
def tensor_split(input, indices_or_sections, dim=0):
    """``n`` near-equal pieces (the first ``size % n`` one longer), or pieces cut at the listed
    indices."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        return _pieces(input, d, _bounds(sizes))
    cuts = [min(max(int(i) if i >= 0 else int(i) + n, 0), n) for i in indices_or_sections]
    starts = [0] + cuts
    stops = cuts + [n]
    return _pieces(input, d, [(a, max(a, b)) for a, b in zip(starts, stops)])


@declare()
def narrow(input, dim, start, length):
    """The view ``input[..., start:start + length, ...]`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return S.Slice.apply(input, key=(slice(None),) * d + (slice(start, start + length),
                                                          Ellipsis))


def _dim_list(dims, ndim, op, what):
    dims = [_dim(x, ndim) for x in (dims if isinstance(dims, (tuple, list)) else (dims,))]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: repeated dim in `{what}` ({dims})")
    return dims


@declare(function=("movedim", "moveaxis"), method=("movedim", "moveaxis"))
def movedim(input, source, destination):
    """The view with dims ``source`` moved to positions ``destination`` (the rest in order)."""
    src = _dim_list(source, input.ndim, "movedim", "source")
    dst = _dim_list(destination, input.ndim, "movedim", "destination")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    if input.ndim == 0:
        return S.Permute.apply(input, dims=())
    order = [None] * input.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    order = tuple(next(rest) if o is None else o for o in order)
    return S.Permute.apply(input, dims=order)


@declare()
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The view of the ``offset`` diagonal of dims ``dim1``/``dim2``, as the last dim."""
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return X.Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def _int_arg(op, name, pos, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be int, not "
                        f"{type(value).__name__}")
    return int(value)


# a method only: torch has no torch.unfold (nn.functional.unfold is im2col, in _ops_nn_shape)
@declare(function=False)
def unfold(input, dimension, size, step):
    """The view of every ``size``-long slice of ``dimension``, ``step`` apart: that dim becomes
    ``(n - size) // step + 1`` long and a last dim of length ``size`` is appended."""
    dimension = _int_arg("unfold", "dimension", 1, dimension)
    size = _int_arg("unfold", "size", 2, size)
    step = _int_arg("unfold", "step", 3, step)
    d = _dim(dimension, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return S.UnfoldView.apply(input, dim=d, size=size, step=step)
