"""Layer normalisation over the trailing ``normalized_shape`` dims, on the fused numba kernels.

The input is viewed as (M, D) rows (D = the product of ``normalized_shape``). Forward keeps the
per-row mean and 1/std (float64, length M) for backward; ``weight``/``bias`` may be None.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import layer_norm as K
from .adjoint import tie_to_inputs

__all__ = ["LayerNorm"]

_CHUNKS = 16  # row chunks for the parameter-gradient partial sums (a few per thread)


class LayerNorm(Function):
    """``LayerNorm.apply(x, weight, bias, D=, eps=, k=)``: the last ``k`` dims (D elements) are
    normalised."""

    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, *, D, eps, k):
        M = int(np.prod(x.shape[:x.ndim - k]))  # (not size // D: D may be 0)
        x2 = np.ascontiguousarray(x).reshape(M, D)
        dt = x2.dtype
        w = np.ones(D, dt) if weight is None else weight.reshape(D).astype(dt, copy=False)
        b = np.zeros(D, dt) if bias is None else bias.reshape(D).astype(dt, copy=False)
        mean, rstd = np.empty(M, np.float64), np.empty(M, np.float64)
        y = np.empty_like(x2)
        if x2.size:  # (an empty input has nothing to normalise; the kernels divide by D)
            K.layer_norm_forward(y, mean, rstd, x2, w, b, float(eps), int(weight is not None),
                                 int(bias is not None))
        ctx.save_for_backward(x2, w)
        ctx.stats = (mean, rstd)
        ctx.has_w = weight is not None
        ctx.eps = float(eps)
        ctx.param_shape = weight.shape if weight is not None else (
            bias.shape if bias is not None else (D,))
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x2, w = ctx.saved_tensors
        mean, rstd = ctx.stats
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = np.ascontiguousarray(grad_out).reshape(x2.shape)
        grad_x = grad_w = grad_b = None
        if not x2.size:
            zeros = np.zeros(ctx.param_shape, x2.dtype)
            return (np.zeros(grad_out.shape, x2.dtype) if need_x else None,
                    zeros if need_w else None, zeros if need_b else None)
        if need_x:
            grad_x = np.empty_like(x2)
            K.layer_norm_backward_input(grad_x, g2, x2, mean, rstd, w, int(ctx.has_w))
            grad_x = grad_x.reshape(grad_out.shape)
        if need_w or need_b:
            D = x2.shape[1]
            pw, pb = np.empty((_CHUNKS, D)), np.empty((_CHUNKS, D))
            K.layer_norm_backward_params(pw, pb, g2, x2, mean, rstd)
            if need_w:
                grad_w = pw.sum(0).astype(x2.dtype).reshape(ctx.param_shape)
            if need_b:
                grad_b = pb.sum(0).astype(x2.dtype).reshape(ctx.param_shape)
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad_out):
        """The gradients in recorded ops (differentiable again): the statistics recomputed from
        the input, ``gx = rstd (gxhat - mean(gxhat) - xhat mean(gxhat xhat))``."""
        x2, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        M, D = x2.shape
        if not x2.size:
            zeros = ctx.constant(np.zeros(ctx.param_shape, x2.dtype))
            return (ctx.constant(np.zeros(grad_out.shape, x2.dtype)) if need_x else None,
                    zeros if need_w else None, zeros if need_b else None)
        x = ctx.saved_input(0, x2.reshape(grad_out.shape)).reshape(M, D)
        g = grad_out.reshape(M, D)
        centred = x - x.mean(1, keepdim=True)
        rstd = ((centred * centred).mean(1, keepdim=True) + ctx.eps).rsqrt()
        xhat = centred * rstd
        grad_x = grad_w = grad_b = None
        if need_x:
            gxhat = g * ctx.saved_input(1, w.reshape(ctx.param_shape)).reshape(D) \
                if ctx.has_w else g
            grad_x = rstd * (gxhat - gxhat.mean(1, keepdim=True)
                             - xhat * (gxhat * xhat).mean(1, keepdim=True))
            grad_x = grad_x.reshape(grad_out.shape)
        if need_w:
            grad_w = (g * xhat).sum(0).reshape(ctx.param_shape)
        if need_b:
            grad_b = g.sum(0).reshape(ctx.param_shape)
        return tie_to_inputs(ctx, (grad_x, grad_w, grad_b))
