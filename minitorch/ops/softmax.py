"""Softmax and log-softmax along one dim, over the fused numba row kernels.

Inputs of any rank become contiguous (R, C) rows with ``dim`` moved last (a copy-free view for
the common (N, C) case); each kernel is numerically stable (the row max is subtracted first).
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import loss as K

__all__ = ["Softmax", "LogSoftmax"]


def _to_rows(x, dim):
    """Move ``dim`` last and flatten the rest: (..., C, ...) -> contiguous (R, C)."""
    moved = np.moveaxis(x, dim, -1)
    rows = int(np.prod(moved.shape[:-1]))  # not -1: ambiguous for an empty tensor
    return np.ascontiguousarray(moved).reshape(rows, x.shape[dim]), moved.shape


def _from_rows(rows, moved_shape, dim):
    """Undo ``_to_rows``: (R, C) -> the original layout (a view)."""
    return np.moveaxis(rows.reshape(moved_shape), -1, dim)


class _RowSoftmax(Function):
    """Shared forward/backward; subclasses name the kernel pair."""

    forward_kernel = backward_kernel = None

    @classmethod
    def _forward(cls, ctx, x, dim):
        rows, ctx.moved_shape = _to_rows(x, dim)
        out = np.empty_like(rows)
        cls.forward_kernel(out, rows)
        # contiguous like PyTorch's output, so that .view() of it works as in torch
        result = np.ascontiguousarray(_from_rows(out, ctx.moved_shape, dim))
        ctx.save_for_backward(result)  # the returned array, so in-place edits are caught
        ctx.dim = dim
        return result

    @classmethod
    def _backward(cls, ctx, grad_out):
        (result,) = ctx.saved_tensors
        out = _to_rows(result, ctx.dim)[0]
        grad = np.empty_like(out)
        cls.backward_kernel(grad, _to_rows(grad_out, ctx.dim)[0], out)
        return _from_rows(grad, ctx.moved_shape, ctx.dim)

    @staticmethod
    def _backward_graph(ctx, grad_out, log):
        # the kernels' formulas in recorded ops: softmax y (g - sum(g y)); log-softmax
        # g - exp(y) sum(g)
        (result,) = ctx.saved_tensors
        y = ctx.saved_output(result)
        if log:
            return grad_out - y.exp() * grad_out.sum(dim=ctx.dim, keepdim=True)
        return y * (grad_out - (grad_out * y).sum(dim=ctx.dim, keepdim=True))


class Softmax(_RowSoftmax):
    node_name = "SoftmaxBackward0"
    forward_kernel = staticmethod(K.softmax_forward)
    backward_kernel = staticmethod(K.softmax_backward)

    @staticmethod
    def forward(ctx, x, *, dim):
        return Softmax._forward(ctx, x, dim)

    @staticmethod
    def backward(ctx, grad_out):
        return Softmax._backward(ctx, grad_out)

    @staticmethod
    def backward_graph(ctx, grad_out):
        return Softmax._backward_graph(ctx, grad_out, log=False)


class LogSoftmax(_RowSoftmax):
    node_name = "LogSoftmaxBackward0"
    forward_kernel = staticmethod(K.log_softmax_forward)
    backward_kernel = staticmethod(K.log_softmax_backward)

    @staticmethod
    def forward(ctx, x, *, dim):
        return LogSoftmax._forward(ctx, x, dim)

    @staticmethod
    def backward(ctx, grad_out):
        return LogSoftmax._backward(ctx, grad_out)

    @staticmethod
    def backward_graph(ctx, grad_out):
        return LogSoftmax._backward_graph(ctx, grad_out, log=True)
