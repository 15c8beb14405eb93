"""Matrix product with NumPy's ``matmul`` semantics (1-D operands, batched broadcasting), on BLAS."""
import numpy as np

from ..autograd.function import Function, unbroadcast_tensor

__all__ = ["MatMul", "Bmm"]


_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
                 (1, 2): "SqueezeBackward4"}  # PyTorch's, by operand ranks


class MatMul(Function):
    node_name = "MmBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # (batched: PyTorch's bmm result is a view)
        return _MATMUL_NAMES.get((arrays[0].ndim, arrays[1].ndim), "UnsafeViewBackward0")

    @staticmethod
    def forward(ctx, a, b):
        # Only what the wanted gradients use: grad_a needs b, grad_b needs a (PyTorch's rule,
        # so an in-place change of a frozen operand is not a false version error).
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = (a.shape, b.shape)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        if len(a_shape) == 1 and len(b_shape) == 1:  # dot product: grad is a scalar
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None)
        # Treat 1-D operands as a row (a) / column (b) matrix, then drop the added axis again.
        g2 = grad
        if len(a_shape) == 1:
            g2 = np.expand_dims(g2, -2)
        if len(b_shape) == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            b2 = b[:, None] if b.ndim == 1 else b
            a2_shape = (1,) + a_shape if len(a_shape) == 1 else a_shape
            ga = _sum_to(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2_shape).reshape(a_shape)
        if ctx.needs_input_grad[1]:
            a2 = a[None, :] if a.ndim == 1 else a
            b2_shape = b_shape + (1,) if len(b_shape) == 1 else b_shape
            gb = _sum_to(np.matmul(np.swapaxes(a2, -1, -2), g2), b2_shape).reshape(b_shape)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        ta = ctx.saved_input(0, a) if need_b else None
        tb = ctx.saved_input(1, b) if need_a else None
        if len(a_shape) == 1 and len(b_shape) == 1:
            return (grad * tb if need_a else None, grad * ta if need_b else None)
        g2 = grad
        if len(a_shape) == 1:
            g2 = g2.unsqueeze(-2)
        if len(b_shape) == 1:
            g2 = g2.unsqueeze(-1)
        ga = gb = None
        if need_a:
            b2 = tb.unsqueeze(-1) if len(b_shape) == 1 else tb
            a2_shape = (1,) + a_shape if len(a_shape) == 1 else a_shape
            ga = unbroadcast_tensor(MatMul.apply(g2, b2.transpose(-1, -2)), a2_shape)
            ga = ga.reshape(a_shape)
        if need_b:
            a2 = ta.unsqueeze(0) if len(a_shape) == 1 else ta
            b2_shape = b_shape + (1,) if len(b_shape) == 1 else b_shape
            gb = unbroadcast_tensor(MatMul.apply(a2.transpose(-1, -2), g2), b2_shape)
            gb = gb.reshape(b_shape)
        return ga, gb


def _sum_to(g, shape):
    """Sum the broadcast batch dimensions of a batched matmul gradient back to ``shape``."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    axes = tuple(i for i, n in enumerate(shape[:-2]) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class Bmm(MatMul):
    """``torch.bmm``: the same product of two 3-D tensors, named as torch's own node (``@`` on
    the same operands is ``UnsafeViewBackward0`` there)."""

    node_name = "BmmBackward0"
    name_for = None
