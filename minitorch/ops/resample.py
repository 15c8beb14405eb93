"""Padding and interpolation as Functions over per-axis index maps and interpolation matrices.

``Pad`` gathers each padded axis through a source-index map (reflect, replicate, circular, or -1
for a constant fill) and its backward scatters the gradient back with ``np.add.at``, so a source
element read twice (reflection) gets both contributions. ``Interpolate`` is separable: each
spatial axis gathers one (nearest) or two (linear) source taps per output, and its backward
scatters the weighted gradient back the same way. Both gradients are exact.
"""
import numpy as np

from ..autograd.function import Function
from .adjoint import LinearMap

__all__ = ["Pad", "Interpolate", "pad_index", "interpolation_taps"]


def pad_index(n, before, after, mode):
    """Source index of each output position along one axis of length ``n`` (-1: constant)."""
    i = np.arange(-before, n + after)
    if mode == "constant":
        return np.where((i >= 0) & (i < n), i, -1)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    return np.mod(i, n)  # circular


class Pad(Function):
    """``Pad.apply(x, maps=((axis, index_map), ...), value=, saves_input=, mode=, dims=)``;
    ``saves_input`` keeps ``x`` for backward's version check only (the gradient needs its shape
    alone); ``mode`` and ``dims`` (the padded trailing dims) give torch's node names."""

    node_name = "PadBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return _pad_name(static.get("mode"), static.get("dims"), "Backward0")

    @staticmethod
    def forward(ctx, x, *, maps, value, saves_input=False, mode=None, dims=None):
        if saves_input:
            ctx.save_for_backward(x)
        ctx.maps, ctx.in_shape, ctx.names = maps, x.shape, (mode, dims)
        return _gather(x, maps, value)

    @staticmethod
    def backward(ctx, grad):
        return _scatter(grad, ctx.maps, ctx.in_shape)

    @staticmethod
    def backward_graph(ctx, grad):
        """The scatter back as a recorded linear map, for create_graph: its own gradient is the
        pad with zeros again."""
        maps, in_shape, (mode, dims) = ctx.maps, ctx.in_shape, ctx.names
        # torch's node of a constant pad's gradient is a constant pad (a crop) again
        name = ("ConstantPadNdBackward0" if mode == "constant"
                else _pad_name(mode, dims, "BackwardBackward0"))
        # torch's reflection/replication pad backward also takes the input (its gradient then
        # requires grad when the input does); its constant pad's is a crop of grad alone
        like = () if mode in ("constant", "circular") else (
            ctx.saved_input(0, np.broadcast_to(np.zeros((), grad._data.dtype), in_shape)),)
        return LinearMap.apply(grad, *like, fn=lambda g: _scatter(g, maps, in_shape),
                               adjoint=lambda gg: _gather(gg, maps, 0), name=name,
                               adjoint_name="PadBackward0")


_PAD_NAMES = {"constant": "ConstantPadNd", "reflect": "ReflectionPad{}D",
              "replicate": "ReplicationPad{}D"}


def _pad_name(mode, dims, suffix):
    """torch's node name of a pad in ``mode`` over ``dims`` trailing dims (its circular pad is
    made of slice copies: its gradient's node is a slice's)."""
    if mode == "circular" and suffix != "Backward0":
        return "SliceBackwardBackward0"
    if mode not in _PAD_NAMES:
        return "PadBackward0"
    return _PAD_NAMES[mode].format(dims) + ("Backward0" if mode == "constant" else suffix)


def _gather(x, maps, value):
    """``x`` read through each axis's source-index map, ``value`` where the map is -1."""
    y = x
    for axis, idx in maps:
        if y.shape[axis] == 0:   # an empty axis (constant mode): nothing to take, all fill
            shape = list(y.shape)
            shape[axis] = len(idx)
            y = np.full(shape, value, y.dtype)
            continue
        y = np.take(y, np.maximum(idx, 0), axis=axis)
        if (idx < 0).any():
            sl = [slice(None)] * y.ndim
            sl[axis] = idx < 0
            y[tuple(sl)] = value
    return np.ascontiguousarray(y)


def _scatter(grad, maps, in_shape):
    """The adjoint of ``_gather``: each output's gradient added onto the element it read."""
    g = grad
    shapes = [in_shape]
    for axis, idx in maps[:-1]:
        s = list(shapes[-1])
        s[axis] = len(idx)
        shapes.append(tuple(s))
    for (axis, idx), shape in zip(reversed(maps), reversed(shapes)):
        keep = idx >= 0
        out = np.zeros((shape[axis],) + tuple(np.delete(g.shape, axis)), g.dtype)
        np.add.at(out, idx[keep], np.moveaxis(g, axis, 0)[keep])
        g = np.moveaxis(out, 0, axis)
    return np.ascontiguousarray(g)


def interpolation_taps(n_in, n_out, mode, align_corners, scale, dtype):
    """(i0, i1, lam) of one axis: output ``o`` is ``x[i0] * (1 - lam) + x[i1] * lam`` (nearest:
    ``i1`` is None). PyTorch's source-coordinate rules, in the data's precision as its kernels
    compute them. ``scale`` is the user's scale factor when one was given (PyTorch then uses
    ``1/scale``), else None (``n_in / n_out``)."""
    ft = np.float32 if np.dtype(dtype) == np.float32 else np.float64
    dst = np.arange(n_out).astype(ft)
    if n_in == n_out:
        # PyTorch copies an axis whose size does not change, whatever the scale factor said
        # (so a zero-weight neighbour's NaN does not leak in)
        return np.arange(n_out), None, None
    if mode == "nearest":
        ratio = ft(1.0 / scale) if scale else ft(n_in / n_out)
        return np.minimum(np.floor(dst * ratio).astype(np.int64), n_in - 1), None, None
    if align_corners:
        src = dst * ft((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        ratio = ft(1.0 / scale) if scale else ft(n_in / n_out)
        src = np.maximum((dst + ft(0.5)) * ratio - ft(0.5), ft(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(dtype)


def _along(v, axis, ndim):
    shape = [1] * ndim
    shape[axis] = v.size
    return v.reshape(shape)


class Interpolate(Function):
    """``Interpolate.apply(x, taps=((i0, i1, lam) per spatial axis), kind=)``; ``kind`` names
    torch's node (``"UpsampleBilinear2D"``: ``UpsampleBilinear2DBackward0``).

    Gathers, not dense matrices: a NaN or inf reaches exactly the outputs whose taps read it
    (a zero-weight tap included, as in PyTorch's kernels)."""

    node_name = "UpsampleBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static.get("kind", "Upsample") + "Backward0"

    @staticmethod
    def forward(ctx, x, *, taps, kind="Upsample"):
        ctx.taps, ctx.in_shape, ctx.kind = taps, x.shape, kind
        return _interpolate(x, taps)

    @staticmethod
    def backward(ctx, grad):
        return _interpolate_back(grad, ctx.taps, ctx.in_shape)

    @staticmethod
    def backward_graph(ctx, grad):
        # linear in grad, and torch's upsample backward takes grad alone: its gradient is the
        # interpolation again
        taps, in_shape, kind = ctx.taps, ctx.in_shape, ctx.kind
        return LinearMap.apply(grad, fn=lambda g: _interpolate_back(g, taps, in_shape),
                               adjoint=lambda gg: _interpolate(gg, taps),
                               name=kind + "BackwardBackward0", adjoint_name=kind + "Backward0")


def _interpolate(x, taps):
    y = x
    for axis in reversed(range(len(taps))):  # the last axis first, as PyTorch's kernels
        i0, i1, lam = taps[axis]
        a = 2 + axis
        if i1 is None:
            y = np.take(y, i0, axis=a)
        else:
            lam = _along(lam, a, y.ndim)
            y = np.take(y, i0, axis=a) * (1 - lam) + np.take(y, i1, axis=a) * lam
    return np.ascontiguousarray(y)


def _interpolate_back(grad, taps, in_shape):
    g = grad
    for axis, (i0, i1, lam) in enumerate(taps):
        a = 2 + axis
        moved = np.moveaxis(g, a, 0)
        out = np.zeros((in_shape[a],) + moved.shape[1:], g.dtype)
        if i1 is None:
            np.add.at(out, i0, moved)
        else:
            w = lam.reshape((-1,) + (1,) * (moved.ndim - 1))
            np.add.at(out, i0, moved * (1 - w))
            np.add.at(out, i1, moved * w)
        g = np.moveaxis(out, 0, a)
    return np.ascontiguousarray(g)
