"""The vector p-norm over some dims (``norm``, ``linalg.vector_norm``), with PyTorch's gradient:
0 where the norm is 0 (and for p < 1 where an element is 0), ties shared for the inf-norms."""
import numpy as np

from ..autograd.function import Function

__all__ = ["VectorNorm"]


def _quiet():
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _norm(a, ord, dim, keepdim):
    absa = np.abs(a)
    if ord == np.inf:
        return np.max(absa, axis=dim, keepdims=keepdim)
    if ord == -np.inf:
        return np.min(absa, axis=dim, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=dim, keepdims=keepdim)
    if ord == 1:
        return np.sum(absa, axis=dim, keepdims=keepdim)
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
    with _quiet():
        return np.power(np.sum(np.power(absa, ord), axis=dim, keepdims=keepdim), 1.0 / ord)


class VectorNorm(Function):
    """``ord`` is any float (p = 0 counts the non-zeros: recorded, with a zero gradient)."""

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, a, *, ord, dim=None, keepdim=False):
        out = np.asarray(_norm(a, ord, dim, keepdim), dtype=a.dtype)
        ctx.save_for_backward(a, out)
        ctx.meta = (ord, dim, keepdim)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        ord, dim, keepdim = ctx.meta
        if ord == 0:  # (torch leaves the input's grad None here; our engine wants an array)
            return np.zeros_like(a)
        if dim is not None and not keepdim:
            grad, out = np.expand_dims(grad, dim), np.expand_dims(out, dim)
        sign = np.sign(a)
        zero = np.zeros((), a.dtype)
        with _quiet():
            if ord == 1:
                return grad * sign
            if abs(ord) == np.inf:
                mask = np.abs(a) == out
                count = np.sum(mask, axis=dim, keepdims=True)
                return grad * sign * mask / count
            if ord == 2:
                return np.where(out == 0, zero, grad * a / out)
            g = grad * sign * np.power(np.abs(a), ord - 1) / np.power(out, ord - 1)
            return np.where((out == 0) | (a == 0), zero, g)
