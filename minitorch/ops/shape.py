"""Shape Functions: reshape, permute, expand, squeeze/unsqueeze, cat, stack and indexing.

Reshape, permute, expand, squeeze/unsqueeze and basic indexing return NumPy views where NumPy can;
``Function.apply`` then makes the output a view of the input (``is_view``): one storage, one
version counter, so an in-place change through either is seen by both and by autograd.
"""
import numpy as np

from ..autograd.function import Function

__all__ = ["Reshape", "Permute", "Expand", "Squeeze", "Unsqueeze", "Cat", "Stack", "Slice",
           "Index"]


class Reshape(Function):
    is_view = True
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, a, *, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, *, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims))


class Expand(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, *, shape):
        out = np.broadcast_to(a, shape)
        # writeable like the input (numpy's broadcast views are read-only): an in-place op on a
        # slice of it that repeats no element is legal in PyTorch; one that would write to a
        # shared element is refused by the in-place checks (a zero stride over a dim > 1)
        return np.lib.stride_tricks.as_strided(a, out.shape, out.strides,
                                               writeable=a.flags.writeable)

    @staticmethod
    def backward(ctx, grad):
        return grad  # Function.apply sums it back to the input's shape


class Squeeze(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, *, dim=None):
        ctx.in_shape = a.shape
        if dim is None or a.ndim == 0:
            return np.squeeze(a) if a.ndim else a.view()
        dims = tuple(d for d in (dim if isinstance(dim, tuple) else (dim,)) if a.shape[d] == 1)
        return np.squeeze(a, dims) if dims else a.view()

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Unsqueeze(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, *, dim):
        ctx.in_shape = a.shape
        return np.expand_dims(a, dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.splits = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        ctx.dim = dim
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        parts = np.split(grad, ctx.splits, axis=ctx.dim)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        parts = np.moveaxis(grad, ctx.dim, 0)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


class Slice(Function):
    """Basic indexing (ints, slices, None, Ellipsis): a view of the input."""

    is_view = True
    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, a, *, key):
        ctx.meta = (a.shape, a.dtype, key)
        return a[key]

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, key = ctx.meta
        out = np.zeros(shape, grad.dtype)
        out[key] = grad
        return out


class Index(Function):
    """Advanced indexing (integer or bool arrays): a copy; repeated indices add their grads."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, *, key):
        ctx.meta = (a.shape, key)
        # PyTorch's result is contiguous (so reshape/view of it is a view); numpy's may not be
        return np.ascontiguousarray(a[key])

    @staticmethod
    def backward(ctx, grad):
        shape, key = ctx.meta
        out = np.zeros(shape, grad.dtype)
        np.add.at(out, key, grad)
        return out
