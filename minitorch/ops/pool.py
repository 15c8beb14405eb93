"""Pooling Functions over the numba kernels: max pool (with indices), avg pool, adaptive avg pool.

Window geometry arrives as (h, w) pairs; output sizes, including ``ceil_mode``, are computed here
with PyTorch's rules and handed to the kernels through the output's shape.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import pool as K

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "pool_output_size"]


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output length: a ceil-mode window must start inside input or left pad."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class MaxPool2d(Function):
    """Returns ``(out, indices)``; indices are flat ``h*W + w`` positions per plane."""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, dilation, out_hw):
        x = np.ascontiguousarray(x)
        N, C = x.shape[:2]
        out = np.empty((N, C) + out_hw, x.dtype)
        indices = np.empty((N, C) + out_hw, np.int64)
        K.max_pool2d_forward(out, indices, x, *kernel_size, *stride, *padding, *dilation)
        ctx.mark_non_differentiable(indices)
        ctx.indices, ctx.in_shape = indices, x.shape
        return out, indices

    @staticmethod
    def backward(ctx, grad_out, _grad_indices):
        grad_x = np.empty(ctx.in_shape, grad_out.dtype)
        K.max_pool2d_backward(grad_x, np.ascontiguousarray(grad_out), ctx.indices)
        return grad_x


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
