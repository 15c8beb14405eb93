"""Numerically stable softmax and log-softmax along one dim (the max is subtracted first)."""
import numpy as np

from ..autograd.function import Function

__all__ = ["Softmax", "LogSoftmax"]


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, *, dim):
        e = np.exp(a - np.max(a, axis=dim, keepdims=True))
        out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - np.sum(grad * out, axis=ctx.dim, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, *, dim):
        shifted = a - np.max(a, axis=dim, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.dim, keepdims=True)
