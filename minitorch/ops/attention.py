"""``_safe_softmax``: the softmax of attention scores, where a row masked out entirely (every
score -inf) gives zeros instead of NaN, as PyTorch's attention does (its ``_safe_softmax``).

Over the fused row kernels of ``ops/softmax.py``; the last dim only (attention's key axis).
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import loss as K

__all__ = ["SafeSoftmax"]


class SafeSoftmax(Function):
    node_name = "SafeSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x):
        C = x.shape[-1]
        rows = np.ascontiguousarray(x).reshape(x.size // max(C, 1), C)  # (-1 fails for size 0)
        out = np.empty_like(rows)
        if rows.size:
            K.softmax_forward(out, rows)
            nan_rows = np.flatnonzero(np.isnan(out[:, 0]))
            if nan_rows.size:  # rare: masked rows (all -inf) become 0; NaN inputs stay NaN
                masked = nan_rows[np.all(rows[nan_rows] == -np.inf, axis=1)]
                out[masked] = 0
        result = out.reshape(x.shape)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        (result,) = ctx.saved_tensors
        C = result.shape[-1]
        y = result.reshape(result.size // max(C, 1), C)
        grad = np.empty_like(y)
        if y.size:
            K.softmax_backward(grad, np.ascontiguousarray(grad_out).reshape(y.shape), y)
        return grad.reshape(result.shape)

    @staticmethod
    def backward_graph(ctx, grad_out):
        (result,) = ctx.saved_tensors
        y = ctx.saved_output(result)
        return y * (grad_out - (grad_out * y).sum(dim=-1, keepdim=True))
