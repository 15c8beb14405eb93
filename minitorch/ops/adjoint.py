"""The gradient of an op that is linear in its input, as an op of its own (create_graph=True).

Gathers (``gather``, ``index_select``, ``embedding``, sort/topk's values), running sums, pads,
pools, interpolation and unfold have a backward that is a fixed linear map of the output
gradient (a scatter-add, a reversed cumsum, a col2im) and reads nothing saved but indices.
``LinearMap.apply(grad, fn=, adjoint=, name=)`` records ``fn(grad)``; its own gradient is
``adjoint`` (the op's forward map), recorded the same way with the roles swapped, so the
gradient can be differentiated to any order. ``fn`` and ``adjoint`` are array functions closed
over the op's indices; nothing here runs unless create_graph asks.

``LinearMap.apply(grad, x, ...)``: where torch's backward op also takes the forward's input
(``reflection_pad1d_backward(grad, self)``, ``avg_pool2d_backward(grad, self)``), its result
requires grad when that input does, and the input's gradient is torch's ``zeros_like(self)``:
a constant. ``x`` passes only its place in the graph (any array of its shape and dtype).
"""
import numpy as np

from ..autograd.function import Function, _once_differentiable

__all__ = ["LinearMap", "Tied", "tie_to_inputs", "OnceDifferentiable", "FusedBackward"]


class LinearMap(Function):
    """``apply(g, *like, fn=, adjoint=, name=)``: ``fn(g)``, whose gradient is ``adjoint(gg)``
    (and zeros for each ``like`` input); ``name`` is torch's node name of that step of the
    double-backward graph."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static["name"]

    @staticmethod
    def forward(ctx, g, *like, fn, adjoint, name, adjoint_name=None):
        ctx.maps = (fn, adjoint, name, adjoint_name)
        ctx.like = tuple((a.shape, a.dtype) for a in like)
        return fn(g)

    @staticmethod
    def backward(ctx, gg):
        return (ctx.maps[1](gg),) + tuple(np.zeros(s, d) for s, d in ctx.like)

    @staticmethod
    def backward_graph(ctx, gg):
        fn, adjoint, name, adjoint_name = ctx.maps
        return (LinearMap.apply(gg, fn=adjoint, adjoint=fn, name=adjoint_name or name,
                                adjoint_name=name),) + tuple(
            ctx.constant(np.zeros(s, d)) for s, d in ctx.like)


class Tied(Function):
    """``apply(g, *inputs, name=)``: ``g`` itself, recorded as depending on ``inputs`` too, with
    no gradient for them (torch's undefined one)."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static["name"]

    @staticmethod
    def forward(ctx, g, *inputs, name):
        ctx.count = len(inputs)
        return g.copy()

    @staticmethod
    def backward(ctx, gg):
        return (gg,) + (None,) * ctx.count

    @staticmethod
    def backward_graph(ctx, gg):
        return (gg,) + (None,) * ctx.count


def tie_to_inputs(ctx, grads, inputs=None):
    """``grads`` (backward_graph's results) as torch's fused backward ops give them: one node
    (``convolution_backward(grad, input, weight)``, ``native_layer_norm_backward(grad, input,
    weight, bias)``) computes every gradient from all the forward's tensor inputs, so each
    requires grad when any input does, even one it does not depend on (a bias's gradient, a
    weight's whose input is a constant); differentiating it through such an input gives None.
    ``inputs``: the positions of the forward's inputs that torch's backward op takes (default
    all; ``convolution_backward`` takes no bias, only its sizes)."""
    if all(g is None or g.requires_grad for g in grads):
        return grads
    zero = np.zeros((), np.float32)
    like = [ctx.saved_input(i, np.broadcast_to(zero.astype(meta[1]), meta[0]))
            for i, ((node, _), meta) in enumerate(zip(ctx.next_functions, ctx._inputs_meta))
            if node is not None and meta is not None and (inputs is None or i in inputs)]
    if not like:
        return grads
    name = ctx.name().replace("Backward0", "BackwardBackward0")
    return tuple(g if g is None or g.requires_grad else Tied.apply(g, *like, name=name)
                 for g in grads)


class OnceDifferentiable(Function):
    """``apply(y, node_name=, message=)``: ``y`` itself, whose gradient raises ``message`` if
    differentiated again: a composed op whose torch counterpart has no double backward
    (``pdist``), so that create_graph gives torch's error rather than a second derivative."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static["node_name"]

    @staticmethod
    def forward(ctx, y, *, node_name, message):
        ctx.message = message
        return y.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad

    @staticmethod
    def backward_graph(ctx, grad):
        return _once_differentiable(ctx, (grad,), ctx._make, message=ctx.message)


class FusedBackward(Function):
    """``apply(y, *inputs, node_name=)``: ``y`` itself (a view), for an op composed of smaller
    ones whose torch counterpart is one fused node (``native_group_norm``): the gradient that
    enters the composition is tied to ``inputs`` (see ``tie_to_inputs``), so every gradient
    computed from it requires grad when any of torch's backward op's inputs does."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static["node_name"]

    @staticmethod
    def forward(ctx, y, *inputs, node_name):
        ctx.count = len(inputs)
        return y.view()

    @staticmethod
    def backward(ctx, grad):
        return (grad,) + (None,) * ctx.count

    @staticmethod
    def backward_graph(ctx, grad):
        tied = tie_to_inputs(ctx, (grad,), inputs=range(1, ctx.count + 1))
        return tied + (None,) * ctx.count
