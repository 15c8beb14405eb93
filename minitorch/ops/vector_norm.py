"""The vector p-norm over some dims (``norm``, ``linalg.vector_norm``), with PyTorch's gradient:
0 where the norm is 0 (and for p < 1 where an element is 0), ties shared for the inf-norms."""
import numpy as np

from ..autograd.function import Function
from .elementwise import Where

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
        if ord == 0:  # torch's: no gradient at all (the input's grad stays None)
            return None
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

    @staticmethod
    def backward_graph(ctx, grad):
        """torch's ``norm_backward`` formulas in recorded ops (the output through this node, as
        torch's), each masked *after* its division as torch masks: so its second derivative is
        torch's too, NaN where a masked branch divides by a zero norm or raises a zero element
        to a negative power (a zero vector's Hessian, p < 2 at a zero element)."""
        a_arr, out_arr = ctx.saved_tensors
        ord, dim, keepdim = ctx.meta
        a, out = ctx.saved_input(0, a_arr), ctx.saved_output(out_arr)
        if ord == 0:  # torch's: no gradient at all (None, not zeros)
            return None
        if dim is not None and not keepdim:  # (dim may be a tuple)
            out_arr = np.expand_dims(out_arr, dim)
            grad, out = grad.reshape(out_arr.shape), out.reshape(out_arr.shape)
        sign = a.sign()  # recorded (a zero derivative), so the gradient requires grad as torch's
        if ord == 1:
            return grad * sign
        if abs(ord) == np.inf:
            mask = np.abs(a_arr) == out_arr
            share = mask / np.sum(mask, axis=dim, keepdims=True)
            return grad * sign * ctx.constant(share.astype(a_arr.dtype))
        zero = ctx.constant(np.zeros((), a_arr.dtype))
        dead = ctx.constant(out_arr == 0)
        if ord == 2:
            return grad * Where.apply(dead, zero, a / out)
        if ord < 1:
            scaled = sign * Where.apply(ctx.constant(a_arr == 0), zero, a.abs() ** (ord - 1))
            return scaled * grad * out ** (1 - ord)
        scaled = sign * a.abs() ** (ord - 1) if ord < 2 else a * a.abs() ** (ord - 2)
        return scaled * Where.apply(dead, zero, grad / out ** (ord - 1))
