"""The pooling gradients as ops of their own, so that ``create_graph=True`` can differentiate
them again (gradient penalties through a CNN). A pool's backward is linear in the incoming
gradient: its own gradient is the adjoint map, the gather of the max pool's indices or the
average pools' forward, and zero for the pooled input, which torch's backward also takes."""
import numpy as np

from ..autograd.function import Function
from ..kernels import pool as K

__all__ = ["PoolGradient"]


class PoolGradient(Function):
    """``apply(grad, x, kind=, ...)``: the gradient of pooling ``x`` for ``grad``; ``kind`` is
    'max' (``indices=``), 'avg' (``args=``, the kernels' geometry) or 'adaptive'."""

    _NAMES = {"max": "MaxPool2DWithIndicesBackwardBackward0",
              "avg": "AvgPool2DBackwardBackward0",
              "adaptive": "AdaptiveAvgPool2DBackwardBackward0"}

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return PoolGradient._NAMES[static["kind"]]

    @staticmethod
    def forward(ctx, grad, x, *, kind, indices=None, args=()):
        grad = np.ascontiguousarray(grad)
        out = np.empty(x.shape, grad.dtype)
        if kind == "max":
            K.max_pool2d_backward(out, grad, indices)
        elif kind == "avg":
            K.avg_pool2d_backward(out, grad, *args)
        else:
            K.adaptive_avg_pool2d_backward(out, grad)
        ctx.kind, ctx.indices, ctx.args = kind, indices, args
        ctx.shapes = (grad.shape, x.shape, x.dtype)
        return out

    @staticmethod
    def backward(ctx, gg):
        grad_shape, x_shape, x_dtype = ctx.shapes
        gg = np.ascontiguousarray(gg)
        if ctx.kind == "max":
            planes = gg.reshape(*x_shape[:2], -1)
            g2 = np.take_along_axis(planes, ctx.indices.reshape(*grad_shape[:2], -1), axis=2)
            g2 = g2.reshape(grad_shape)
        else:
            g2 = np.empty(grad_shape, gg.dtype)
            if ctx.kind == "avg":
                K.avg_pool2d_forward(g2, gg, *ctx.args)
            else:
                K.adaptive_avg_pool2d_forward(g2, gg)
        return g2, np.zeros(x_shape, x_dtype)
