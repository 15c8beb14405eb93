"""Padding and interpolation as Functions over per-axis index maps and interpolation matrices.

``Pad`` gathers each padded axis through a source-index map (reflect, replicate, circular, or -1
for a constant fill) and its backward scatters the gradient back with ``np.add.at``, so a source
element read twice (reflection) gets both contributions. ``Interpolate`` is separable: each
spatial axis is a small (out, in) matrix (nearest: one 1 per row; linear: two weights), applied
with ``tensordot``; backward applies the transposes. Both gradients are exact.
"""
import numpy as np

from ..autograd.function import Function

__all__ = ["Pad", "Interpolate", "pad_index", "interpolation_matrix"]


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
    """``Pad.apply(x, maps=((axis, index_map), ...), value=)``."""

    node_name = "PadBackward0"

    @staticmethod
    def forward(ctx, x, *, maps, value):
        y = x
        for axis, idx in maps:
            y = np.take(y, np.maximum(idx, 0), axis=axis)
            if (idx < 0).any():
                sl = [slice(None)] * y.ndim
                sl[axis] = idx < 0
                y[tuple(sl)] = value
        ctx.maps = maps
        ctx.in_shape = x.shape
        return np.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, grad):
        g = grad
        shapes = [ctx.in_shape]
        for axis, idx in ctx.maps[:-1]:
            s = list(shapes[-1])
            s[axis] = len(idx)
            shapes.append(tuple(s))
        for (axis, idx), shape in zip(reversed(ctx.maps), reversed(shapes)):
            keep = idx >= 0
            out = np.zeros((shape[axis],) + tuple(np.delete(g.shape, axis)), g.dtype)
            np.add.at(out, idx[keep], np.moveaxis(g, axis, 0)[keep])
            g = np.moveaxis(out, 0, axis)
        return np.ascontiguousarray(g)


def interpolation_matrix(n_in, n_out, mode, align_corners, scale, dtype):
    """The (n_out, n_in) matrix of one axis, PyTorch's source-coordinate rules.

    ``scale`` is the user's scale factor when one was given (PyTorch uses ``1/scale`` then),
    else None (``n_in / n_out``).
    """
    dst = np.arange(n_out, dtype=np.float64)
    A = np.zeros((n_out, n_in), dtype=np.float64)
    if mode == "nearest":
        ratio = 1.0 / scale if scale else n_in / n_out
        # float32 arithmetic, as PyTorch's kernel: floor(dst * ratio) must round the same way
        src = np.floor(dst.astype(np.float32) * np.float32(ratio)).astype(np.int64)
        A[np.arange(n_out), np.minimum(src, n_in - 1)] = 1.0
        return A.astype(dtype)
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = dst * ratio
    else:
        ratio = 1.0 / scale if scale else n_in / n_out
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    rows = np.arange(n_out)
    np.add.at(A, (rows, i0), 1.0 - lam)
    np.add.at(A, (rows, i1), lam)
    return A.astype(dtype)


class Interpolate(Function):
    """``Interpolate.apply(x, mats=(A_axis2, A_axis3, ...))``: one matrix per spatial axis."""

    node_name = "UpsampleBackward0"

    @staticmethod
    def forward(ctx, x, *, mats):
        y = x
        for axis in reversed(range(len(mats))):  # last axis first, as PyTorch's kernels sum
            y = np.moveaxis(np.tensordot(mats[axis], y, axes=(1, 2 + axis)), 0, 2 + axis)
        ctx.mats = mats
        return np.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, grad):
        g = grad
        for axis, A in enumerate(ctx.mats):
            g = np.moveaxis(np.tensordot(A.T, g, axes=(1, 2 + axis)), 0, 2 + axis)
        return np.ascontiguousarray(g)
