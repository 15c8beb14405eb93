"""Reductions: sum, mean, max, min (whole tensor or along one dim, with keepdim)."""
import numpy as np

from ..autograd.function import Function

__all__ = ["Sum", "Mean", "MaxAll", "MinAll", "MaxDim", "MinDim"]


def _expand_back(grad, shape, dim, keepdim):
    """Broadcast a reduced gradient back over the reduced axes of ``shape``."""
    if dim is not None and not keepdim:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        ctx.meta = (a.shape, dim, keepdim)
        return np.asarray(np.sum(a, axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        shape, dim, keepdim = ctx.meta
        return _expand_back(grad, shape, dim, keepdim)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        out = np.asarray(np.mean(a, axis=dim, keepdims=keepdim))
        ctx.meta = (a.shape, dim, keepdim)
        ctx.count = max(1, a.size // max(1, out.size))
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dim, keepdim = ctx.meta
        return _expand_back(grad / grad.dtype.type(ctx.count), shape, dim, keepdim)


class _ExtremeAll(Function):
    """Max/min over the whole tensor; ties share the gradient evenly, as PyTorch's amax does."""

    reduce = None

    @classmethod
    def _forward(cls, ctx, a):
        out = np.asarray(cls.reduce(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        mask = a == out
        return np.where(mask, grad / mask.sum(), np.zeros((), grad.dtype)).astype(grad.dtype)


class MaxAll(_ExtremeAll):
    node_name = "MaxBackward1"
    reduce = np.max

    @staticmethod
    def forward(ctx, a):
        return MaxAll._forward(ctx, a)


class MinAll(_ExtremeAll):
    node_name = "MinBackward1"
    reduce = np.min

    @staticmethod
    def forward(ctx, a):
        return MinAll._forward(ctx, a)


class _ExtremeDim(Function):
    """Max/min along ``dim``: returns (values, indices); the gradient goes to the index taken."""

    arg = None

    @classmethod
    def _forward(cls, ctx, a, dim, keepdim):
        idx = np.expand_dims(cls.arg(a, axis=dim), dim)
        values = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            values, idx = np.squeeze(values, dim), np.squeeze(idx, dim)
        idx = idx.astype(np.int64, copy=False)
        ctx.mark_non_differentiable(idx)
        ctx.meta = (a.shape, dim, keepdim, idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        shape, dim, keepdim, idx = ctx.meta
        if not keepdim:
            grad, idx = np.expand_dims(grad, dim), np.expand_dims(idx, dim)
        out = np.zeros(shape, grad.dtype)
        np.put_along_axis(out, idx, grad, axis=dim)
        return out


class MaxDim(_ExtremeDim):
    node_name = "MaxBackward0"
    arg = np.argmax

    @staticmethod
    def forward(ctx, a, *, dim, keepdim=False):
        return MaxDim._forward(ctx, a, dim, keepdim)


class MinDim(_ExtremeDim):
    node_name = "MinBackward0"
    arg = np.argmin

    @staticmethod
    def forward(ctx, a, *, dim, keepdim=False):
        return MinDim._forward(ctx, a, dim, keepdim)
