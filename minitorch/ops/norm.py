"""Batch normalisation as a Function over the fused numba kernels (optionally with ReLU fused).

Training uses the batch's biased variance to normalise and, when running statistics are given,
updates them in place with the unbiased variance (PyTorch's ``F.batch_norm`` contract). Evaluation
normalises with the running statistics. The fused ReLU variant (``relu=True``: ``relu(bn(x))``
in one pass each way) saves its output for the ReLU's mask, as a separate in-place ReLU would.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import norm as K
from .adjoint import tie_to_inputs

__all__ = ["BatchNorm"]


def _as_ncp(a):
    """(N, C, *spatial) -> a contiguous (N, C, P) array (a view when already contiguous)."""
    a = np.ascontiguousarray(a)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _affine(weight, bias, C, dt):
    w = np.ones(C, dt) if weight is None else weight.astype(dt, copy=False)
    b = np.zeros(C, dt) if bias is None else bias.astype(dt, copy=False)
    return w, b


def eval_stats(running_mean, running_var, weight, bias, eps, dt):
    """(mean, invstd, w, b) in dtype ``dt`` for ``batch_norm_apply`` in eval mode, from the
    running statistics and the optional affine parameters (ndarrays or None)."""
    C = running_mean.shape[0]
    mean, invstd = np.empty(C, dt), np.empty(C, dt)
    mean[...] = running_mean
    invstd[...] = 1.0 / np.sqrt(running_var.astype(np.float64) + eps)
    return (mean, invstd) + _affine(weight, bias, C, dt)


class BatchNorm(Function):
    """``BatchNorm.apply(x, weight, bias, running_mean=, running_var=, training=, momentum=,
    eps=, relu=False)``; ``weight``/``bias`` may be None; running stats are ndarrays or None."""

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean, running_var, training, momentum, eps,
                relu=False):
        x3 = _as_ncp(x)
        N, C, P = x3.shape
        dt = x3.dtype
        if training:
            w, b = _affine(weight, bias, C, dt)
            mean, invstd = np.empty(C, dt), np.empty(C, dt)
            var = K.batch_norm_stats(mean, invstd, x3, float(eps))
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, momentum, N * P)
        else:
            mean, invstd, w, b = eval_stats(running_mean, running_var, weight, bias, eps, dt)
        y = np.empty_like(x3)
        K.batch_norm_apply(y, x3, mean, invstd, w, b, int(relu))
        # with the ReLU, its mask comes from the output, as a separate ReLU would keep it
        ctx.save_for_backward(x3, y) if relu else ctx.save_for_backward(x3)
        ctx.stats = (mean, invstd, w, b)
        ctx.training, ctx.relu, ctx.eps = bool(training), bool(relu), eps
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        saved = ctx.saved_tensors
        x3, y3 = saved[0], saved[-1]  # y3 is x3 (not read) without the ReLU
        mean, invstd, w, _ = ctx.stats
        need_x, need_w, need_b = ctx.needs_input_grad
        C = x3.shape[1]
        g3 = _as_ncp(grad_out)
        grad_x = np.empty_like(x3) if need_x else np.empty((0, 0, 0), x3.dtype)
        grad_w, grad_b = np.empty(C, x3.dtype), np.empty(C, x3.dtype)
        K.batch_norm_backward(grad_x, grad_w, grad_b, g3, x3, y3, mean, invstd, w,
                              int(ctx.training), int(ctx.relu), int(need_x),
                              int(need_w or need_b))
        return (grad_x.reshape(grad_out.shape) if need_x else None,
                grad_w if need_w else None, grad_b if need_b else None)

    @staticmethod
    def backward_graph(ctx, grad_out):
        """The same gradients in recorded ops, for create_graph. In training the batch mean and
        inverse deviation are recomputed from the input as recorded ops, so that differentiating
        again sees them depend on it (torch's ``batchnorm_double_backward``); in evaluation the
        running statistics are constants."""
        saved = ctx.saved_tensors
        x3, y3 = saved[0], saved[-1]
        mean, invstd, w, _ = ctx.stats
        need_x, need_w, need_b = ctx.needs_input_grad
        N, C, P = x3.shape
        g = grad_out.reshape(N, C, P)
        if ctx.relu:
            g = g * ctx.constant((y3 > 0).astype(x3.dtype))
        x = ctx.saved_input(0, x3.reshape(grad_out.shape)).reshape(N, C, P)
        if ctx.training:
            centred = x - x.mean(dim=(0, 2), keepdim=True)
            inv = ((centred * centred).mean(dim=(0, 2), keepdim=True) + ctx.eps).rsqrt()
        else:
            centred = x - ctx.constant(mean.reshape(1, C, 1))
            inv = ctx.constant(invstd.reshape(1, C, 1))
        xhat = centred * inv
        grad_b = g.sum(dim=(0, 2)) if need_b else None
        grad_w = (g * xhat).sum(dim=(0, 2)) if need_w else None
        grad_x = None
        if need_x:
            scale = ctx.saved_input(1, w).reshape(1, C, 1) * inv
            if ctx.training:
                g = (g - g.mean(dim=(0, 2), keepdim=True)
                     - xhat * (g * xhat).mean(dim=(0, 2), keepdim=True))
            grad_x = (g * scale).reshape(grad_out.shape)
        return tie_to_inputs(ctx, (grad_x, grad_w, grad_b), inputs=(0, 1))


def _update_running(running_mean, running_var, mean, var, momentum, count):
    """``r = (1 - m) * r + m * batch`` in place, with the unbiased variance for ``running_var``."""
    unbiased = var * (count / (count - 1)) if count > 1 else var
    running_mean *= 1 - momentum
    running_mean += momentum * mean.astype(running_mean.dtype)
    running_var *= 1 - momentum
    running_var += (momentum * unbiased).astype(running_var.dtype)
