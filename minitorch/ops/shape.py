"""Shape Functions: reshape, permute, expand, squeeze/unsqueeze, cat, stack and indexing.

Reshape, permute, expand, squeeze/unsqueeze and basic indexing return NumPy views where NumPy can;
``Function.apply`` then makes the output a view of the input (``is_view``): one storage, one
version counter, so an in-place change through either is seen by both and by autograd.

Their ``backward_graph`` (create_graph=True) is the backward in recorded ops: the inverse shape
op, and for indexing a scatter Function whose own backward is the indexing again.
"""
import numpy as np

from ..autograd.function import Function
from .adjoint import LinearMap

__all__ = ["Reshape", "Permute", "Expand", "Squeeze", "Unsqueeze", "UnfoldView", "Cat", "Stack",
           "Slice", "Index"]  # (SliceBackward, IndexBackward: internal, the gradients of indexing)


def _put(shape, key, grad):
    """Zeros of ``shape`` with ``grad`` written at the basic index ``key``."""
    out = np.zeros(shape, grad.dtype)
    out[key] = grad
    return out


def _index_add(shape, key, grad):
    """Zeros of ``shape`` with ``grad`` added at the advanced index ``key`` (repeats add up)."""
    out = np.zeros(shape, grad.dtype)
    np.add.at(out, key, grad)
    return out


def _reshape_back(ctx, grad):
    return Reshape.apply(grad, shape=ctx.in_shape)


class Reshape(Function):
    is_view = True
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)

    backward_graph = staticmethod(_reshape_back)


class Permute(Function):
    """``permute``; ``transpose`` and ``t`` too, which pass ``name`` for PyTorch's grad_fn."""

    is_view = True

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static.get("name") or "PermuteBackward0"

    @staticmethod
    def forward(ctx, a, *, dims, name=None):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims))

    @staticmethod
    def backward_graph(ctx, grad):
        return Permute.apply(grad, dims=tuple(int(d) for d in np.argsort(ctx.dims)))


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, *, shape):
        out = np.broadcast_to(a, shape)
        # writeable like the input (numpy's broadcast views are read-only): an in-place op on a
        # slice of it that repeats no element is legal in PyTorch; one that would write to a
        # shared element is refused by the in-place checks (a zero stride over a dim > 1)
        return np.lib.stride_tricks.as_strided(a, out.shape, out.strides,
                                               writeable=a.flags.writeable)

    @staticmethod
    def backward(ctx, grad):
        return grad  # Function.apply sums it back to the input's shape

    backward_graph = backward


class Squeeze(Function):
    is_view = True

    @staticmethod
    def name_for(is_tensor, arrays, static):  # squeeze(), squeeze(dim), squeeze(dims)
        dim = static.get("dim")
        return f"SqueezeBackward{0 if dim is None else 1 if len(dim) == 1 else 2}"

    @staticmethod
    def forward(ctx, a, *, dim=None):
        ctx.in_shape = a.shape
        if dim is None or a.ndim == 0:
            return np.squeeze(a) if a.ndim else a.view()
        dims = tuple(d for d in (dim if isinstance(dim, tuple) else (dim,)) if a.shape[d] == 1)
        return np.squeeze(a, dims) if dims else a.view()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)

    backward_graph = staticmethod(_reshape_back)


class Unsqueeze(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, *, dim):
        ctx.in_shape = a.shape
        return np.expand_dims(a, dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)

    backward_graph = staticmethod(_reshape_back)


def _windows(a, dim, size, step):
    """The view of every ``size``-long window of ``a`` along ``dim``, ``step`` apart: that dim
    counts the windows, a new last dim (stride of ``dim``) runs along each. A 0-d ``a`` is one
    element long (``size`` <= 1)."""
    if a.ndim == 0:
        return a.reshape(1)[:size]
    count = (a.shape[dim] - size) // step + 1
    shape = a.shape[:dim] + (count,) + a.shape[dim + 1:] + (size,)
    strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + (a.strides[dim],)
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


def _unwindow(meta, grad):
    """UnfoldView's gradient: each window's gradient added back where it came from (windows
    that overlap add up), one strided add per position within a window."""
    shape, dim, size, step = meta
    if not shape:
        return grad.sum().reshape(()).astype(grad.dtype)
    out = np.zeros(shape, grad.dtype)
    count = grad.shape[dim]
    lead = (slice(None),) * dim
    for j in range(size):
        out[lead + (slice(j, j + step * (count - 1) + 1, step),)] += grad[..., j]
    return out


class UnfoldView(Function):
    """``Tensor.unfold(dimension, size, step)``: sliding windows as a strided view."""

    is_view = True
    node_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, a, *, dim, size, step):
        ctx.meta = (a.shape, dim, size, step)
        return _windows(a, dim, size, step)

    @staticmethod
    def backward(ctx, grad):
        return _unwindow(ctx.meta, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        meta = ctx.meta
        _, dim, size, step = meta
        # the gradient is linear in grad; its own gradient is the windowing again (a copy)
        return LinearMap.apply(grad, fn=lambda g: _unwindow(meta, g),
                               adjoint=lambda gg: _windows(gg, dim, size, step).copy(),
                               name="UnfoldBackwardBackward0", adjoint_name="UnfoldBackward0")


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.splits = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        ctx.dim = dim
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        parts = np.split(grad, ctx.splits, axis=ctx.dim)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))

    @staticmethod
    def backward_graph(ctx, grad):
        bounds = [0] + [int(b) for b in ctx.splits] + [grad.shape[ctx.dim]]
        lead = (slice(None),) * ctx.dim
        return tuple(Slice.apply(grad, key=lead + (slice(lo, hi),)) if need else None
                     for lo, hi, need in zip(bounds, bounds[1:], ctx.needs_input_grad))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        parts = np.moveaxis(grad, ctx.dim, 0)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))

    @staticmethod
    def backward_graph(ctx, grad):
        lead = (slice(None),) * ctx.dim
        return tuple(Slice.apply(grad, key=lead + (i,)) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


class Slice(Function):
    """Basic indexing (ints, slices, None, Ellipsis): a view of the input."""

    is_view = True
    node_name = "SliceBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):
        # PyTorch indexes one key element at a time: the last one that does something names it
        key = [k for k in static["key"] if k is not Ellipsis]
        acting = [k for k in key if not (isinstance(k, slice) and k == slice(None))]
        if not acting:
            return "SliceBackward0" if key else "AliasBackward0"
        last = acting[-1]
        return ("UnsqueezeBackward0" if last is None else
                "SliceBackward0" if isinstance(last, slice) else "SelectBackward0")

    @staticmethod
    def forward(ctx, a, *, key):
        ctx.meta = (a.shape, a.dtype, key)
        return a[key]

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, key = ctx.meta
        return _put(shape, key, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        shape, _, key = ctx.meta
        return SliceBackward.apply(grad, shape=shape, key=key)


class Index(Function):
    """Advanced indexing (integer or bool arrays): a copy; repeated indices add their grads."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, *, key):
        ctx.meta = (a.shape, key)
        # PyTorch's result is contiguous (so reshape/view of it is a view); numpy's may not be
        return np.ascontiguousarray(a[key])

    @staticmethod
    def backward(ctx, grad):
        shape, key = ctx.meta
        return _index_add(shape, key, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        shape, key = ctx.meta
        return IndexBackward.apply(grad, shape=shape, key=key)


class _IndexingGrad(Function):
    """The gradient of an indexing op as an op of its own (zeros of ``shape`` with ``grad``
    scattered at ``key``), so that it can be differentiated again: its backward is the
    indexing (``gather``) itself. A subclass names the pair; classmethods read it from ``cls``
    (``Function.apply`` calls ``cls.forward(ctx, ...)``, so a bound classmethod fits)."""

    scatter = gather = None

    @classmethod
    def forward(cls, ctx, grad, *, shape, key):
        ctx.key = key
        return cls.scatter(shape, key, grad)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.key]

    @classmethod
    def backward_graph(cls, ctx, grad):
        return cls.gather.apply(grad, key=ctx.key)


class SliceBackward(_IndexingGrad):
    node_name = "SliceBackwardBackward0"
    scatter = staticmethod(_put)
    gather = Slice


class IndexBackward(_IndexingGrad):
    node_name = "IndexBackwardBackward0"
    scatter = staticmethod(_index_add)
    gather = Index
