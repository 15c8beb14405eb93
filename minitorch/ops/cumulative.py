"""Products and running reductions: ``prod``, ``cumsum``, ``cumprod``.

The gradients stay exact when the input holds zeros (PyTorch's results): then the product of all
*other* elements comes from exclusive running products, never from dividing by the element.
"""
import numpy as np

from ..autograd.function import Function
from .adjoint import LinearMap
from .elementwise import Where
from .linalg import Einsum
from .resample import Pad

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
    def name_for(is_tensor, arrays, static):  # PyTorch: prod() / prod(dim)
        return "ProdBackward0" if static.get("dim") is None else "ProdBackward1"

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

    @staticmethod
    def backward_graph(ctx, grad):
        """The same gradient in recorded ops, as torch's: without zeros ``grad * out / a``
        (through the output node); with zeros, the product of the others from exclusive running
        products (exact, whatever the zeros), over the flattened input when there is no dim and
        a single zero; with more than one zero and no dim, torch's constant zeros."""
        a_arr, out_arr = ctx.saved_tensors
        dim, keepdim = ctx.meta
        a, out = ctx.saved_input(0, a_arr), ctx.saved_output(out_arr)
        if dim is not None and not keepdim:
            grad, out = grad.unsqueeze(dim), out.unsqueeze(dim)
        zeros = int(np.count_nonzero(a_arr == 0))
        if not zeros:
            return grad * (out / a)
        if dim is None and zeros > 1:
            return ctx.constant(np.zeros(a_arr.shape, np.result_type(grad._data, a_arr)))
        flat = a if dim is not None else a.reshape(-1)
        d = 0 if dim is None else dim % a_arr.ndim
        others = _exclusive_cumprod_graph(flat, d) * _exclusive_cumprod_graph(flat.flip(d),
                                                                               d).flip(d)
        return grad * others.reshape(a_arr.shape)


def _exclusive_cumprod_graph(a, d):
    """``_exclusive_cumprod`` in recorded ops: ``a`` shifted by one along ``d`` (a 1 in
    front), then its running product."""
    shifted = Pad.apply(a, maps=((d, np.arange(-1, a.shape[d] - 1)),), value=1)
    return CumProd.apply(shifted, dim=d)


class CumSum(Function):
    node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, a, *, dim):
        ctx.dim = dim
        return np.cumsum(a, axis=dim, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return _reversed_cumsum(grad, ctx.dim)

    @staticmethod
    def backward_graph(ctx, grad):
        d = ctx.dim
        # torch's node is the last flip of its flip-cumsum-flip
        return LinearMap.apply(grad, fn=lambda g: _reversed_cumsum(g, d),
                               adjoint=lambda gg: np.cumsum(gg, axis=d, dtype=gg.dtype),
                               name="FlipBackward0", adjoint_name="CumsumBackward0")


def _reversed_cumsum(g, d):
    return np.flip(np.cumsum(np.flip(g, d), axis=d), d)


class CumProd(Function):
    """d out[k] / d a[i] = prod(a[j] for j <= k, j != i) for k >= i."""

    node_name = "CumprodBackward0"

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

    @staticmethod
    def backward_graph(ctx, grad):
        """torch's ``reversed_cumsum(grad * out) / a`` in recorded ops; with a zero in the input
        the first gradient is right but differentiating it again raises (not supported here)."""
        a_arr, out_arr = ctx.saved_tensors
        d = ctx.dim % max(a_arr.ndim, 1)
        if a_arr.size <= 1 or a_arr.shape[d] == 1:  # torch's: the gradient itself
            return grad
        a = ctx.saved_input(0, a_arr)
        if np.all(a_arr != 0):
            out = ctx.saved_output(out_arr)
            return (grad * out).flip(d).cumsum(d).flip(d) / a
        return _cumprod_grad_with_zeros_graph(ctx, a.movedim(d, -1),
                                              grad.movedim(d, -1)).movedim(-1, d)


def _cumprod_grad_with_zeros_graph(ctx, a, grad):
    """``_cumprod_grad_with_zeros`` in recorded ops (the running products of the others as
    cumprods and an einsum, whose first derivatives handle the zeros exactly)."""
    n, last = a.shape[-1], a.ndim - 1
    one = ctx.constant(np.ones((), a._data.dtype))
    upper = ctx.constant(np.triu(np.ones((n, n), bool), 1))
    tail = CumProd.apply(Where.apply(upper, a.unsqueeze(-2), one), dim=last + 1)
    tail = Where.apply(ctx.constant(np.triu(np.ones((n, n), bool))), tail,
                       ctx.constant(np.zeros((), a._data.dtype)))
    batch = "abcdefgh"[:last]
    summed = Einsum.apply(tail, grad, inputs=(batch + "yz", batch + "z"), output=batch + "y")
    return _exclusive_cumprod_graph(a, last) * summed


def _cumprod_grad_with_zeros(a, grad):
    """The exact gradient along the last axis in O(n^2) memory per row (only when zeros occur):
    grad_a[i] = prod(a[:i]) * sum_{k >= i} grad[k] * prod(a[i+1:k+1])."""

    node_name = "CumprodBackward0"
    n = a.shape[-1]
    upper = np.triu(np.ones((n, n), bool), 1)  # [i, j]: j > i
    tail = np.cumprod(np.where(upper, a[..., None, :], 1), axis=-1)  # [.., i, k]
    tail = np.where(np.tril(np.ones((n, n), bool)).T, tail, 0)  # keep k >= i
    return _exclusive_cumprod(a, -1) * np.einsum("...ik,...k->...i", tail, grad)
