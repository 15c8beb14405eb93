"""``atan2(a, b)``: the angle of the point (b, a), in (-pi, pi], with torch's gradient
``(b, -a) / (a**2 + b**2)`` (NaN at the origin, as torch's)."""
import numpy as np

from ..autograd.function import Function

__all__ = ["Atan2"]


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / (a * a + b * b)
            return (scale * b if need_a else None, scale * -a if need_b else None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        a, b = ctx.saved_input(0, a), ctx.saved_input(1, b)
        need_a, need_b = ctx.needs_input_grad
        scale = grad / (a * a + b * b)
        return (scale * b if need_a else None, scale * -a if need_b else None)
