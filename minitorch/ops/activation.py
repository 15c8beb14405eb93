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
        zero = ctx.constant(np.zeros((), grad_out._data.dtype))
        return Where.apply(ctx.constant(out > 0), grad_out, zero)
