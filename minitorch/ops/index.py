"""Indexing Functions: gather/scatter, flip/roll/repeat, tril/triu, diagonal, sort.

Forward and backward work on numpy arrays. ``along(index, dim)`` turns a torch-style index tensor
(``gather``/``scatter``'s: one position along ``dim`` per element) into a numpy fancy-index tuple,
so the gather is ``a[key]`` and its backward one ``np.add.at`` (which adds repeated positions,
as the gradient must).
"""
import numpy as np

from ..autograd.function import Function
from .adjoint import LinearMap

__all__ = ["Gather", "IndexSelect", "MaskedSelect", "Scatter", "ScatterAdd", "Flip", "Roll", "Repeat", "Triangle", "Diagonal",
           "DiagEmbed", "along"]


def along(index, dim):
    """The fancy-index tuple that picks ``a[..., index[i, j, k], ...]`` (``index`` in slot
    ``dim``, the element's own position in every other slot)."""
    grids = list(np.ogrid[tuple(slice(0, n) for n in index.shape)])
    grids[dim] = index
    return tuple(grids)


def _scatter_back(key, shape, grad, dtype):
    out = np.zeros(shape, dtype)
    np.add.at(out, key, grad)
    return out


class Gather(Function):
    """``out[i][j][k] = a[index[i][j][k]][j][k]`` (for dim 0); ``index`` is an int64 array."""

    node_name = "GatherBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # sort/topk's values are named after their op
        return static.get("node") or "GatherBackward0"

    @staticmethod
    def forward(ctx, a, index, *, dim, saves_input=True, out_shape=None, node=None):
        key = along(index, dim)
        ctx.meta = (a.shape, key, index.shape)
        # torch's gather saves its input (backward reads only its shape): a later in-place change
        # of the input is the same error there and here; sort/topk's values save only indices
        if saves_input:
            ctx.save_for_backward(a)
        # out_shape: sort/topk of a 0-d tensor, gathered from its 1-element view, are 0-d
        # tensors of their own in torch (not views), so the reshape happens in here
        out = a[key]
        return out if out_shape is None else out.reshape(out_shape)

    @staticmethod
    def backward(ctx, grad):
        shape, key, index_shape = ctx.meta
        return _scatter_back(key, shape, grad.reshape(index_shape), grad.dtype), None

    @staticmethod
    def backward_graph(ctx, grad):
        shape, key, index_shape = ctx.meta
        out_shape = grad.shape
        # torch scatters sort/topk's gradient into zeros (the indices are distinct there)
        name = "ScatterAddBackward0" if ctx.name() == "GatherBackward0" else "ScatterBackward0"
        return LinearMap.apply(
            grad, fn=lambda g: _scatter_back(key, shape, g.reshape(index_shape), g.dtype),
            adjoint=lambda gg: gg[key].reshape(out_shape), name=name,
            adjoint_name="GatherBackward0"), None


class IndexSelect(Function):
    """The slices ``index`` (1-D int64) along ``dim``, C-contiguous as torch's result (so a
    reshape of it is a view there and here)."""

    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, a, index, *, dim):
        ctx.meta = (a.shape, index, dim)
        return np.take(a, index, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return _add_slices(*ctx.meta, grad), None

    @staticmethod
    def backward_graph(ctx, grad):
        shape, index, dim = ctx.meta
        return LinearMap.apply(grad, fn=lambda g: _add_slices(shape, index, dim, g),
                               adjoint=lambda gg: np.take(gg, index, axis=dim),
                               name="IndexAddBackward0",
                               adjoint_name="IndexSelectBackward0"), None


def _add_slices(shape, index, dim, grad):
    """The gradient of ``index_select``: each slice of ``grad`` added onto the one it took."""
    out = np.zeros(shape, grad.dtype)
    np.add.at(out, (slice(None),) * dim + (index,), grad)
    return out


class MaskedSelect(Function):
    """The elements of ``a`` where the bool ``mask`` (of a's shape) is True, as 1-D. Saves its
    input, as torch's (for the same version check)."""

    node_name = "MaskedSelectBackward0"

    @staticmethod
    def forward(ctx, a, mask):
        ctx.save_for_backward(a, mask)
        return a[mask]

    @staticmethod
    def backward(ctx, grad):
        a, mask = ctx.saved_tensors
        return _masked_scatter(a.shape, mask, grad), None

    @staticmethod
    def backward_graph(ctx, grad):
        a, mask = ctx.saved_tensors
        shape = a.shape
        return LinearMap.apply(grad, fn=lambda g: _masked_scatter(shape, mask, g),
                               adjoint=lambda gg: gg[mask], name="MaskedScatterBackward0"), None


def _masked_scatter(shape, mask, grad):
    """MaskedSelect's gradient: zeros of the input's shape with ``grad`` where ``mask`` is."""
    out = np.zeros(shape, grad.dtype)
    out[mask] = grad
    return out


def _src_part(src, index):
    """The part of ``src`` that scatter reads: its leading ``index.shape`` corner (torch allows a
    larger src), or a scalar broadcast to the index's shape."""
    if src.ndim == 0 or index.size == 0:
        return np.broadcast_to(src.reshape(-1)[:1] if src.size else np.zeros(1, src.dtype),
                               index.shape)
    return src[tuple(slice(0, n) for n in index.shape)]


def _src_grad(grad, key, src_shape, index_shape):
    """The gradient of scatter's ``src``: the output gradient at the written positions, in the
    src's shape (zeros where src was not read)."""
    out = np.zeros(src_shape, grad.dtype)
    if 0 not in index_shape:
        out[tuple(slice(0, n) for n in index_shape)] = grad[key]
    return out


class Scatter(Function):
    """``a`` with ``a[index[i][j]][j] = src[i][j]`` (dim 0); ``src`` may be 0-d (``value=``).
    ``reduce`` ("add"/"multiply") combines instead of writing; it has no gradient in torch."""

    node_name = "ScatterBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch: scatter(src=Tensor) / scatter(value=)
        return "ScatterBackward0" if is_tensor[2] else "ScatterBackward1"

    @staticmethod
    def forward(ctx, a, index, src, *, dim, reduce=None):
        key = along(index, dim)
        ctx.meta = (key, np.shape(src), index.shape)
        out = a.copy()
        part = _src_part(np.asarray(src, a.dtype), index)
        if reduce is None:
            out[key] = part
        elif reduce == "add":
            np.add.at(out, key, part)
        else:
            np.multiply.at(out, key, part)
        return out

    @staticmethod
    def backward(ctx, grad):
        key, src_shape, index_shape = ctx.meta
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = grad.copy()
            ga[key] = 0
        if ctx.needs_input_grad[2]:
            gs = _src_grad(grad, key, src_shape, index_shape)
        return ga, None, gs

    @staticmethod
    def backward_graph(ctx, grad):
        key, src_shape, index_shape = ctx.meta
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = LinearMap.apply(grad, fn=lambda g: _cleared(g, key),
                                 adjoint=lambda gg: _cleared(gg, key), name="ScatterBackward1")
        if ctx.needs_input_grad[2]:
            gs = _src_grad_graph(grad, key, src_shape, index_shape)
        return ga, None, gs


class ScatterAdd(Function):
    """``a`` with ``src`` added at ``index`` along ``dim`` (repeated positions add up)."""

    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, a, index, src, *, dim):
        key = along(index, dim)
        ctx.meta = (key, src.shape, index.shape)
        out = a.copy()
        np.add.at(out, key, _src_part(src, index))
        return out

    @staticmethod
    def backward(ctx, grad):
        key, src_shape, index_shape = ctx.meta
        gs = _src_grad(grad, key, src_shape, index_shape) if ctx.needs_input_grad[2] else None
        return grad, None, gs

    @staticmethod
    def backward_graph(ctx, grad):
        key, src_shape, index_shape = ctx.meta
        gs = _src_grad_graph(grad, key, src_shape, index_shape) \
            if ctx.needs_input_grad[2] else None
        return grad, None, gs


def _cleared(g, key):
    """``g`` with the positions scatter overwrote at zero."""
    out = g.copy()
    out[key] = 0
    return out


def _src_grad_graph(grad, key, src_shape, index_shape):
    """``_src_grad`` recorded: its adjoint writes the src-shaped gradient back at ``key``."""
    shape = grad.shape

    def adjoint(gg):
        out = np.zeros(shape, gg.dtype)
        if 0 not in index_shape:
            np.add.at(out, key, gg[tuple(slice(0, n) for n in index_shape)])
        return out
    return LinearMap.apply(grad, fn=lambda g: _src_grad(g, key, src_shape, index_shape),
                           adjoint=adjoint, name="GatherBackward0")


class Flip(Function):
    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, a, *, dims):
        ctx.dims = dims
        return np.flip(a, dims).copy()  # a copy, as torch's flip

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.dims)

    @staticmethod
    def backward_graph(ctx, grad):
        dims = ctx.dims
        flip = lambda g: np.flip(g, dims).copy()  # noqa: E731 (its own adjoint)
        return LinearMap.apply(grad, fn=flip, adjoint=flip, name="FlipBackward0")


class Roll(Function):
    """``roll`` over ``dims`` (None: the flattened tensor, shape kept)."""

    node_name = "RollBackward0"

    @staticmethod
    def forward(ctx, a, *, shifts, dims):
        ctx.args = (shifts, dims)
        return _roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        shifts, dims = ctx.args
        return _roll(grad, tuple(-s for s in shifts), dims)

    @staticmethod
    def backward_graph(ctx, grad):
        shifts, dims = ctx.args
        back = tuple(-s for s in shifts)
        return LinearMap.apply(grad, fn=lambda g: _roll(g, back, dims),
                               adjoint=lambda gg: _roll(gg, shifts, dims), name="RollBackward0")


def _roll(a, shifts, dims):
    if dims is None:
        return np.roll(a.reshape(-1), shifts[0]).reshape(a.shape)
    return np.roll(a, shifts, dims)


class Repeat(Function):
    """``repeat(*sizes)``: ``a`` (given leading 1-dims up to ``len(sizes)``) tiled ``sizes``
    times; the gradient sums the tiles."""

    node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, a, *, sizes):
        ctx.in_shape = a.shape
        return _tiled(a, sizes)

    @staticmethod
    def backward(ctx, grad):
        return _tiles_summed(ctx.in_shape, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        in_shape, sizes = ctx.in_shape, grad.shape
        reps = tuple(g // s if s else 0 for g, s in
                     zip(sizes, (1,) * (len(sizes) - len(in_shape)) + in_shape))
        return LinearMap.apply(grad, fn=lambda g: _tiles_summed(in_shape, g),
                               adjoint=lambda gg: _tiled(gg, reps), name="SumBackward1",
                               adjoint_name="RepeatBackward0")


def _tiled(a, sizes):
    return np.tile(a.reshape((1,) * (len(sizes) - a.ndim) + a.shape), sizes)


def _tiles_summed(in_shape, grad):
    """Repeat's gradient: the tiles of ``grad`` summed onto one of ``in_shape``."""
    shape = (1,) * (grad.ndim - len(in_shape)) + in_shape
    split = []
    for r, n in zip((g // s if s else 0 for g, s in zip(grad.shape, shape)), shape):
        split += [r, n]
    if 0 in grad.shape:
        return np.zeros(in_shape, grad.dtype)
    summed = grad.reshape(split).sum(axis=tuple(range(0, 2 * len(shape), 2)))
    return summed.reshape(in_shape)


class Triangle(Function):
    """``tril`` (``upper=False``) or ``triu`` of the last two dims, with torch's ``diagonal``."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return "TriuBackward0" if static["upper"] else "TrilBackward0"

    @staticmethod
    def forward(ctx, a, *, diagonal, upper):
        ctx.args = (diagonal, upper)
        return _triangle(a, diagonal, upper)

    @staticmethod
    def backward(ctx, grad):
        return _triangle(grad, *ctx.args)

    @staticmethod
    def backward_graph(ctx, grad):
        k, upper = ctx.args
        keep = lambda g: _triangle(g, k, upper)  # noqa: E731 (its own adjoint)
        return LinearMap.apply(grad, fn=keep, adjoint=keep,
                               name="TriuBackward0" if upper else "TrilBackward0")


def _triangle(a, k, upper):
    rows, cols = a.shape[-2:]
    keep = np.triu(np.ones((rows, cols), bool), k) if upper else np.tril(np.ones((rows, cols),
                                                                                  bool), k)
    return np.where(keep, a, np.zeros((), a.dtype))


def diagonal_view(a, offset, dim1, dim2):
    """A writeable view of the diagonal of dims ``dim1``/``dim2``, as the last dim (torch's
    ``diagonal``; numpy's is read-only): a slice starting at the first diagonal element,
    re-strided to step along both dims at once."""
    d = np.diagonal(a, offset, dim1, dim2)  # the shape and strides torch's view has
    key = [slice(None)] * a.ndim
    if offset >= 0:
        key[dim2] = slice(offset, None)
    else:
        key[dim1] = slice(-offset, None)
    start = a[tuple(key)]
    return np.lib.stride_tricks.as_strided(start, d.shape, d.strides,
                                           writeable=a.flags.writeable)


class Diagonal(Function):
    is_view = True
    node_name = "DiagonalBackward0"

    @staticmethod
    def forward(ctx, a, *, offset, dim1, dim2):
        ctx.meta = (a.shape, offset, dim1, dim2)
        return diagonal_view(a, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        return _on_diagonal(ctx.meta, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        shape, offset, dim1, dim2 = ctx.meta
        meta = ctx.meta
        return LinearMap.apply(grad, fn=lambda g: _on_diagonal(meta, g),
                               adjoint=lambda gg: np.diagonal(gg, offset, dim1, dim2).copy(),
                               name="DiagonalBackwardBackward0",
                               adjoint_name="DiagonalBackward0")


def _on_diagonal(meta, grad):
    """Diagonal's gradient: zeros of the input's shape with ``grad`` on the diagonal."""
    shape, offset, dim1, dim2 = meta
    out = np.zeros(shape, grad.dtype)
    diagonal_view(out, offset, dim1, dim2)[...] = grad
    return out


class DiagEmbed(Function):
    """``diag`` of a 1-D tensor: the square matrix with it on diagonal ``offset``."""

    node_name = "DiagEmbedBackward0"

    @staticmethod
    def forward(ctx, a, *, offset):
        ctx.offset = offset
        return np.diag(a, offset)

    @staticmethod
    def backward(ctx, grad):
        return np.diagonal(grad, ctx.offset).copy()

    @staticmethod
    def backward_graph(ctx, grad):
        k = ctx.offset
        return LinearMap.apply(grad, fn=lambda g: np.diagonal(g, k).copy(),
                               adjoint=lambda gg: np.diag(gg, k), name="DiagonalBackward0",
                               adjoint_name="DiagEmbedBackward0")
