"""The gradient of an op that is linear in its input, as an op of its own (create_graph=True).

Gathers (``gather``, ``index_select``, ``embedding``, sort/topk's values) and running sums have a
backward that is a fixed linear map of the output gradient (a scatter-add, a reversed cumsum)
and reads nothing saved but indices. ``LinearMap.apply(grad, fn=, adjoint=, name=)`` records
``fn(grad)``; its own gradient is ``adjoint`` (the op's forward map), recorded the same way with
the roles swapped, so the gradient can be differentiated to any order. ``fn`` and ``adjoint`` are
array functions closed over the op's indices; nothing here runs unless create_graph asks.
"""
from ..autograd.function import Function

__all__ = ["LinearMap"]


class LinearMap(Function):
    """``apply(g, fn=, adjoint=, name=)``: ``fn(g)``, whose gradient is ``adjoint(gg)``;
    ``name`` is torch's node name of that step of the double-backward graph."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static["name"]

    @staticmethod
    def forward(ctx, g, *, fn, adjoint, name, adjoint_name=None):
        ctx.maps = (fn, adjoint, name, adjoint_name)
        return fn(g)

    @staticmethod
    def backward(ctx, gg):
        return ctx.maps[1](gg)

    @staticmethod
    def backward_graph(ctx, gg):
        fn, adjoint, name, adjoint_name = ctx.maps
        return LinearMap.apply(gg, fn=adjoint, adjoint=fn, name=adjoint_name or name,
                               adjoint_name=name)
