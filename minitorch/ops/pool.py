"""Pooling Functions over the numba kernels: max pool (indices only when needed), avg pool and
adaptive avg pool.

Window geometry arrives as (h, w) pairs; output sizes, including ``ceil_mode``, are computed here
with PyTorch's rules and handed to the kernels through the output's shape.
"""
import numpy as np

from ..autograd.function import BackwardNode, Function
from ..kernels import pool as K
from .pool_grad import pool_gradient

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "pool_output_size"]


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output length: a ceil-mode window must start inside input or left pad."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class MaxPool2d(Function):
    """Returns ``out``, or ``(out, indices)`` with ``return_indices``; indices are flat ``h*W + w``
    positions per plane.

    The indices are computed only when asked for or when the call is recorded (backward scatters
    through them): inference and frozen layers take the values-only kernel, which skips the int64
    array (twice the output's bytes) and gives bitwise the same maxima.
    """

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, dilation, out_hw, return_indices):
        x = np.ascontiguousarray(x)
        out = np.empty(x.shape[:2] + out_hw, x.dtype)
        geometry = (*kernel_size, *stride, *padding, *dilation)
        if not return_indices and not isinstance(ctx, BackwardNode):
            K.max_pool2d_forward_values(out, x, *geometry)
            return out
        indices = np.empty(out.shape, np.int64)
        K.max_pool2d_forward(out, indices, x, *geometry)
        ctx.indices, ctx.in_shape = indices, x.shape
        if not return_indices:
            return out
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad_out, *_grad_indices):
        grad_x = np.empty(ctx.in_shape, grad_out.dtype)
        K.max_pool2d_backward(grad_x, np.ascontiguousarray(grad_out), ctx.indices)
        return grad_x

    @staticmethod
    def backward_graph(ctx, grad_out, *_grad_indices):
        return pool_gradient(ctx, grad_out, "max", indices=ctx.indices)


class AvgPool2d(Function):
    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, out_hw, count_include_pad, divisor):
        x = np.ascontiguousarray(x)
        ctx.args = (*kernel_size, *stride, *padding, int(count_include_pad), int(divisor or 0))
        ctx.in_shape = x.shape
        out = np.empty(x.shape[:2] + out_hw, x.dtype)
        K.avg_pool2d_forward(out, x, *ctx.args)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = np.empty(ctx.in_shape, grad_out.dtype)
        K.avg_pool2d_backward(grad_x, np.ascontiguousarray(grad_out), *ctx.args)
        return grad_x

    @staticmethod
    def backward_graph(ctx, grad_out):
        return pool_gradient(ctx, grad_out, "avg", args=ctx.args)


class AdaptiveAvgPool2d(Function):
    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, *, output_size):
        x = np.ascontiguousarray(x)
        ctx.in_shape = x.shape
        out = np.empty(x.shape[:2] + tuple(output_size), x.dtype)
        K.adaptive_avg_pool2d_forward(out, x)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = np.empty(ctx.in_shape, grad_out.dtype)
        K.adaptive_avg_pool2d_backward(grad_x, np.ascontiguousarray(grad_out))
        return grad_x

    @staticmethod
    def backward_graph(ctx, grad_out):
        return pool_gradient(ctx, grad_out, "adaptive")
