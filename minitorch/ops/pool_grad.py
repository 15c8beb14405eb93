"""The pooling gradients as recorded linear maps, so that ``create_graph=True`` can
differentiate them again (gradient penalties through a CNN), to any order.

A pool's backward is linear in the incoming gradient: its own gradient is the adjoint map, the
gather of the max pools' indices or the average pools' forward. Torch's backward op also takes
the pooled input (``avg_pool2d_backward(grad, self)``), so the gradient requires grad when the
input does and the input's second-order gradient is a constant zero: ``LinearMap``'s ``like``
input carries that.
"""
import numpy as np

from ..kernels import pool as K
from .adjoint import LinearMap

__all__ = ["pool_gradient"]

_NAMES = {"max": ("MaxPool2DWithIndicesBackwardBackward0", "MaxPoolDoubleBackwardBackward0"),
          "avg": ("AvgPool2DBackwardBackward0", "AvgPool2DBackward0"),
          "adaptive": ("AdaptiveAvgPool2DBackwardBackward0", "AdaptiveAvgPool2DBackward0")}


def pool_gradient(ctx, grad, kind, indices=None, args=()):
    """The gradient of the pool recorded by ``ctx`` for ``grad`` (a Tensor), as a recorded op:
    ``kind`` is 'max' (``indices``: flat ``h*W + w`` per plane, also adaptive max pooling's),
    'avg' (``args``: the kernels' geometry) or 'adaptive'."""
    in_shape, dtype = ctx.in_shape, grad._data.dtype
    out_shape = grad.shape
    # the pooled input's place in the graph: a zero-strided array of its shape, nothing saved.
    # (torch's adaptive average pool to 1x1 is a mean, whose gradient takes grad alone)
    like = () if kind == "adaptive" and out_shape[2:] == (1, 1) else (
        ctx.saved_input(0, np.broadcast_to(np.zeros((), dtype), in_shape)),)

    def back(g):
        g = np.ascontiguousarray(g)
        out = np.empty(in_shape, g.dtype)
        if kind == "max":
            K.max_pool2d_backward(out, g, indices)
        elif kind == "avg":
            K.avg_pool2d_backward(out, g, *args)
        else:
            K.adaptive_avg_pool2d_backward(out, g)
        return out

    def forth(gg):
        gg = np.ascontiguousarray(gg)
        if kind == "max":
            planes = gg.reshape(*in_shape[:2], -1)
            flat = np.take_along_axis(planes, indices.reshape(*out_shape[:2], -1), axis=2)
            return flat.reshape(out_shape)
        out = np.empty(out_shape, gg.dtype)
        if kind == "avg":
            K.avg_pool2d_forward(out, gg, *args)
        else:
            K.adaptive_avg_pool2d_forward(out, gg)
        return out

    name, adjoint_name = _NAMES[kind]
    return LinearMap.apply(grad, *like, fn=back, adjoint=forth, name=name,
                           adjoint_name=adjoint_name)
