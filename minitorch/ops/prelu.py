"""PReLU as torch's fused kernel: ``x`` where positive, ``w * x`` elsewhere, with torch's
gradients to any order.

torch's ``_prelu_kernel`` has a backward op of its own, which takes (grad, x, w): both
gradients require grad when any of those does, and its double backward gives a defined zero
for the derivative of the input's gradient by the input (and of the weight's by the weight),
not None. At ``x == 0`` its first gradient takes the negative slope, while the mixed second
derivatives count only ``x < 0``: both kept here as torch computes them.
"""
import numpy as np

from ..autograd.function import Function
from .elementwise import Where

__all__ = ["PReLU"]


class PReLU(Function):
    """``apply(x, w)``; ``w`` broadcasts against ``x`` (one element, or one per channel)."""

    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, w * x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return _grad_x(x, w, grad), _grad_w(x, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        x, w = ctx.saved_tensors
        xt, wt = ctx.saved_input(0, x), ctx.saved_input(1, w)
        need_x, need_w = ctx.needs_input_grad
        return (PReLUGrad.apply(grad, xt, wt, part="x") if need_x else None,
                PReLUGrad.apply(grad, xt, wt, part="w") if need_w else None)


def _grad_x(x, w, g):
    return np.where(x > 0, g, w * g).astype(x.dtype)


def _grad_w(x, g):  # per element: the caller sums it to the weight's shape
    return np.where(x > 0, x.dtype.type(0), x * g).astype(x.dtype)


class PReLUGrad(Function):
    """``apply(grad, x, w, part=)``: PReLU's gradient of ``x`` (part 'x') or, per element, of
    ``w`` (part 'w'), recorded; its own gradients are torch's ``prelu_kernel_double_backward``."""

    node_name = "PreluKernelBackwardBackward0"

    @staticmethod
    def forward(ctx, g, x, w, *, part):
        ctx.save_for_backward(g, x, w)
        ctx.part = part
        return _grad_x(x, w, g) if part == "x" else _grad_w(x, g)

    @staticmethod
    def backward(ctx, gg):
        g, x, w = ctx.saved_tensors
        zero = x.dtype.type(0)
        mixed = np.where(x < 0, gg * g, zero)
        if ctx.part == "x":
            return _grad_x(x, w, gg), np.zeros(x.shape, x.dtype), mixed
        return _grad_w(x, gg), mixed, np.zeros(np.broadcast(x, w).shape, x.dtype)

    @staticmethod
    def backward_graph(ctx, gg):
        g, x, w = ctx.saved_tensors
        gt, xt, wt = ctx.saved_input(0, g), ctx.saved_input(1, x), ctx.saved_input(2, w)
        zero = ctx.constant(np.zeros((), x.dtype))
        pos, neg = ctx.constant(x > 0), ctx.constant(x < 0)
        mixed = Where.apply(neg, gg * gt, zero)
        if ctx.part == "x":
            return (Where.apply(pos, gg, wt * gg), ctx.constant(np.zeros(x.shape, x.dtype)),
                    mixed)
        return (Where.apply(pos, zero, xt * gg), mixed,
                ctx.constant(np.zeros(np.broadcast(x, w).shape, x.dtype)))
