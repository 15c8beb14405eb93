"""Losses over the fused row kernels (softmax itself is in ``softmax.py``).

``CrossEntropy`` fuses log-softmax and NLL in one pass per row (forward) and recomputes the
softmax in backward instead of storing it. Inputs of any rank are turned into (R, C) rows
by moving the class dim last (a no-op copy-free view for the common (N, C) case).
"""
import numpy as np

from ..autograd.function import Function, _once_differentiable
from ..kernels import loss as K
from .softmax import _from_rows, _to_rows

__all__ = ["CrossEntropy", "NllLoss"]


def _class_dim(x):
    """PyTorch's class dim of a loss input: 0 for an unbatched (C,) input, else 1."""
    return 0 if x.ndim == 1 else 1


def _reduce(rows, row_weight, reduction):
    """Apply ``reduction`` to per-row losses; mean divides by the summed target weights."""
    if reduction == "none":
        return rows
    total = rows.sum(dtype=np.float64)
    if reduction == "sum":
        return np.asarray(total, rows.dtype)
    denom = row_weight.sum(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, like PyTorch
        return np.asarray(total / denom, rows.dtype)


def _row_scale(grad_out, row_weight, reduction, R, dtype):
    """d(reduced loss)/d(row loss), per row."""
    if reduction == "none":
        return np.ascontiguousarray(grad_out, dtype).reshape(R)
    g = float(grad_out)
    if reduction == "mean":
        g /= row_weight.sum(dtype=np.float64)
    return np.full(R, g, dtype)


def _row_scale_graph(grad_out, row_weight, reduction, R):
    """``_row_scale`` as a recorded Tensor op of ``grad_out``: (R, 1) rows, or a 0-d factor."""
    if reduction == "none":
        return grad_out.reshape(R, 1)
    if reduction == "sum":
        return grad_out
    return grad_out / float(row_weight.sum(dtype=np.float64))


class CrossEntropy(Function):
    """Class-index cross-entropy of logits (R, C) and targets (R,)."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, *, ignore_index, reduction, label_smoothing):
        ctx.dim = _class_dim(x)
        logits, ctx.moved_shape = _to_rows(x, ctx.dim)
        R, C = logits.shape
        w = np.ones(C, logits.dtype) if weight is None else weight.astype(logits.dtype)
        ctx.target_shape = np.shape(target)
        target = np.ascontiguousarray(target, np.int64).reshape(-1)
        rows, row_weight = np.empty(R, logits.dtype), np.empty(R, logits.dtype)
        K.cross_entropy_forward(rows, row_weight, logits, target, w, float(label_smoothing),
                                int(ignore_index))
        # PyTorch saves log_softmax's result, so changing the input in place after forward is
        # legal there and backward still sees the old logits: keep them (a copy only when they
        # are still a view of the input; (R, C) rows are small next to the network before them)
        ctx.save_for_backward(logits.copy() if np.may_share_memory(logits, x) else logits)
        ctx.args = (target, w, row_weight, float(label_smoothing), int(ignore_index), reduction)
        return _reduce(rows, row_weight, reduction).reshape(
            ctx.target_shape if reduction == "none" else ())

    @staticmethod
    def backward(ctx, grad_out):
        (logits,) = ctx.saved_tensors
        target, w, row_weight, smoothing, ignore_index, reduction = ctx.args
        if not ctx.needs_input_grad[0]:
            return None, None, None
        scale = _row_scale(grad_out, row_weight, reduction, logits.shape[0], logits.dtype)
        grad = np.empty_like(logits)
        K.cross_entropy_backward(grad, logits, target, w, scale, smoothing, ignore_index)
        return _from_rows(grad, ctx.moved_shape, ctx.dim), None, None

    @staticmethod
    def backward_graph(ctx, grad_out):
        """The gradient in recorded ops, differentiable again (MAML-style second-order steps):
        per row ``(1 - e) w_t (softmax(x) - onehot) + (e / C) (softmax(x) sum(w) - w)`` for label
        smoothing ``e`` (0 on ignored rows), scaled as the reduction says. Inputs of more than
        2 dims keep the first-order path."""
        (logits,) = ctx.saved_tensors
        target, w, row_weight, smoothing, ignore_index, reduction = ctx.args
        if len(ctx.moved_shape) > 2 or not ctx.needs_input_grad[0]:
            return _once_differentiable(ctx, [grad_out], ctx._make)
        R, C = logits.shape
        x = ctx.saved_input(0, _from_rows(logits, ctx.moved_shape, ctx.dim)).reshape(R, C)
        kept = target != ignore_index
        onehot = np.zeros((R, C), logits.dtype)
        onehot[np.arange(R), np.where(kept, target, 0)] = 1
        coef = _row_scale_graph(grad_out, row_weight, reduction, R)
        p = x.softmax(1)
        grad = (1.0 - smoothing) * ctx.constant(row_weight.reshape(R, 1)) * (
            p - ctx.constant(onehot))
        if smoothing:
            spread = p * float(w.sum(dtype=np.float64)) - ctx.constant(w)
            grad = grad + (smoothing / C) * ctx.constant(kept.astype(logits.dtype)
                                                        .reshape(R, 1)) * spread
        return (coef * grad).reshape(ctx.moved_shape), None, None


class NllLoss(Function):
    """Negative log-likelihood of log-probabilities (R, C) at targets (R,)."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, *, ignore_index, reduction):
        ctx.dim = _class_dim(x)
        logp, ctx.moved_shape = _to_rows(x, ctx.dim)
        R, C = logp.shape
        w = np.ones(C, logp.dtype) if weight is None else weight.astype(logp.dtype)
        ctx.target_shape = np.shape(target)
        target = np.asarray(target, np.int64).reshape(-1)
        keep = target != ignore_index
        safe = np.where(keep, target, 0)
        row_weight = np.where(keep, w[safe], 0).astype(logp.dtype)
        rows = -logp[np.arange(R), safe] * row_weight
        ctx.args = (safe, row_weight, reduction, logp.shape, logp.dtype)
        return _reduce(rows.astype(logp.dtype), row_weight, reduction).reshape(
            ctx.target_shape if reduction == "none" else ())

    @staticmethod
    def backward(ctx, grad_out):
        safe, row_weight, reduction, shape, dtype = ctx.args
        R = shape[0]
        scale = _row_scale(grad_out, row_weight, reduction, R, dtype)
        grad = np.zeros(shape, dtype)
        grad[np.arange(R), safe] = -scale * row_weight
        return _from_rows(grad, ctx.moved_shape, ctx.dim), None, None

    @staticmethod
    def backward_graph(ctx, grad_out):
        """``-row_weight`` at the targets, times the incoming gradient: a recorded op of it."""
        safe, row_weight, reduction, shape, dtype = ctx.args
        R = shape[0]
        picked = np.zeros(shape, dtype)
        picked[np.arange(R), safe] = -row_weight
        coef = _row_scale_graph(grad_out, row_weight, reduction, R)
        grad = coef * ctx.constant(picked)
        return grad.reshape(ctx.moved_shape).movedim(-1, ctx.dim), None, None
