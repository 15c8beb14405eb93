"""Products and running reductions: ``prod``, ``cumsum``, ``cumprod``.

The gradients stay exact when the input holds zeros (PyTorch's results): then the product of all
*other* elements comes from exclusive running products, never from dividing by the element.
"""
import numpy as np

from ..autograd.function import Function

__all__ = ["Prod", "CumSum", "CumProd"]


def _exclusive_cumprod(a, axis):
    """out[i] = prod(a[:i]) along ``axis`` (1 at i = 0)."""
    ones = np.ones_like(np.take(a, [0], axis=axis))
    return np.cumprod(np.concatenate([ones, np.delete(a, -1, axis=axis)], axis=axis), axis=axis)


def _others_product(a, axis):
    """out[i] = prod of a[j] for j != i along ``axis``."""
    left = _exclusive_cumprod(a, axis)
    right = np.flip(_exclusive_cumprod(np.flip(a, axis), axis), axis)
    return left * right


class Prod(Function):
    """The product over ``dim`` (None: all elements)."""

    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        out = np.asarray(np.prod(a, axis=dim, keepdims=keepdim, dtype=a.dtype))
        ctx.save_for_backward(a, out)
        ctx.meta = (dim, keepdim)
        return out

    @staticmethod
    def backward(ctx, grad):
        (a, out) = ctx.saved_tensors
        dim, keepdim = ctx.meta
        if dim is not None and not keepdim:
            grad, out = np.expand_dims(grad, dim), np.expand_dims(out, dim)
        if not np.any(a == 0):  # torch's formula then (a NaN spreads over its whole slice)
            with np.errstate(divide="ignore", invalid="ignore"):
                return grad * (out / a)
        if dim is None:  # torch: only a single zero gets a gradient (the others' product)
            out = np.zeros(a.shape, np.result_type(grad, a))
            zeros = np.flatnonzero(a == 0)
            if zeros.size == 1:
                out.flat[zeros[0]] = grad * np.prod(np.delete(a.reshape(-1), zeros[0]))
            return out
        return grad * _others_product(a, dim)


class CumSum(Function):
    @staticmethod
    def forward(ctx, a, *, dim):
        ctx.dim = dim
        return np.cumsum(a, axis=dim, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.dim), axis=ctx.dim), ctx.dim)


class CumProd(Function):
    """d out[k] / d a[i] = prod(a[j] for j <= k, j != i) for k >= i."""

    @staticmethod
    def forward(ctx, a, *, dim):
        out = np.cumprod(a, axis=dim)
        ctx.save_for_backward(a, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        d = ctx.dim
        if np.all(a != 0):
            return np.flip(np.cumsum(np.flip(grad * out, d), axis=d), d) / a
        return np.moveaxis(_cumprod_grad_with_zeros(np.moveaxis(a, d, -1),
                                                    np.moveaxis(grad, d, -1)), -1, d)


def _cumprod_grad_with_zeros(a, grad):
    """The exact gradient along the last axis in O(n^2) memory per row (only when zeros occur):
    grad_a[i] = prod(a[:i]) * sum_{k >= i} grad[k] * prod(a[i+1:k+1])."""
    n = a.shape[-1]
    upper = np.triu(np.ones((n, n), bool), 1)  # [i, j]: j > i
    tail = np.cumprod(np.where(upper, a[..., None, :], 1), axis=-1)  # [.., i, k]
    tail = np.where(np.tril(np.ones((n, n), bool)).T, tail, 0)  # keep k >= i
    return _exclusive_cumprod(a, -1) * np.einsum("...ik,...k->...i", tail, grad)
