"""ReLU as a Function over the numba kernel (forward and backward one pass each)."""
import numpy as np

from ..autograd.function import Function
from ..kernels import activation as K
from .elementwise import Where

__all__ = ["ReLU"]


class ReLU(Function):
    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, x):
        if x.dtype == np.bool_:
            raise RuntimeError("relu: Boolean inputs not supported")
        if not x.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d array 1-d)
            x = np.ascontiguousarray(x)
        out = np.empty_like(x)
        K.relu_forward(out.reshape(-1), x.reshape(-1))
        # PyTorch's rule: the gradient passes where the *output* is positive
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (out,) = ctx.saved_tensors
        if not grad_out.flags.c_contiguous:
            grad_out = np.ascontiguousarray(grad_out)
        grad_x = np.empty_like(grad_out)
        K.relu_backward(grad_x.reshape(-1), grad_out.reshape(-1), out.reshape(-1))
        return grad_x

    @staticmethod
    def backward_graph(ctx, grad_out):
        # the mask (output > 0) is a constant: relu's second derivative is 0 almost everywhere
        (out,) = ctx.saved_tensors
        return ThresholdBackward.apply(grad_out, ctx.saved_output(out))


class ThresholdBackward(Function):
    """relu's gradient as an op of its own, ``where(out > 0, grad, 0)``, taking the output as
    PyTorch's threshold_backward does (so the gradient requires grad when the output does); the
    output gets a zero gradient."""

    node_name = "ThresholdBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, out):
        ctx.mask = out > 0
        return np.where(ctx.mask, grad, np.zeros((), grad.dtype))

    @staticmethod
    def backward(ctx, grad):
        return np.where(ctx.mask, grad, np.zeros((), grad.dtype)), None

    @staticmethod
    def backward_graph(ctx, grad):
        zero = ctx.constant(np.zeros((), grad._data.dtype))
        return Where.apply(ctx.constant(ctx.mask), grad, zero), None
