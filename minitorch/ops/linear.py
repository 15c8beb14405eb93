"""``linear(x, w, b) = x @ w.T + b`` as one BLAS product over all leading dims."""
import numpy as np

from ..autograd.function import Function
from ..kernels import gemm
from .matmul import MatMul

__all__ = ["Linear"]


class Linear(Function):
    node_name = "AddmmBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch's: addmm/mm, then a view for other ranks
        nd, bias = arrays[0].ndim, arrays[2] is not None
        if nd == 2:
            return "AddmmBackward0" if bias else "MmBackward0"
        return "ViewBackward0" if bias else ("SqueezeBackward4" if nd == 1
                                             else "UnsafeViewBackward0")

    @staticmethod
    def forward(ctx, x, w, b):
        x2 = x.reshape(-1, x.shape[-1])
        out = _mm(x2, w.T)
        if b is not None:
            out += b
        ctx.save_for_backward(x, w)
        return out.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad_out.reshape(-1, w.shape[0])
        grad_x = _mm(g2, w).reshape(x.shape) if need_x else None
        grad_w = _mm(g2.T, x.reshape(-1, x.shape[-1])) if need_w else None
        grad_b = g2.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad_out):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        tx, tw = ctx.saved_input(0, x), ctx.saved_input(1, w)
        g2 = grad_out.reshape(-1, w.shape[0])
        grad_x = MatMul.apply(g2, tw).reshape(x.shape) if need_x else None
        grad_w = MatMul.apply(g2.t(), tx.reshape(-1, x.shape[-1])) if need_w else None
        grad_b = g2.sum(dim=0) if need_b else None
        return grad_x, grad_w, grad_b


def _mm(a, b):
    return gemm.matmul(a, b, np.empty((a.shape[0], b.shape[1]), np.result_type(a, b)))
