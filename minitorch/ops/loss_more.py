"""Elementwise losses with their reduction fused in: binary cross-entropy on probabilities and
on logits (numba kernels; like PyTorch they give no gradient to ``weight``/``pos_weight``, which
the functional layer refuses to take with ``requires_grad``), and the distance losses L1, smooth L1 and Huber (numpy).

Each Function returns the reduced loss (a 0-d array for 'mean'/'sum', the elementwise losses for
'none'); backward scales the incoming gradient (by 1/n for 'mean') and computes a gradient only
for the inputs that need one. ``weight`` multiplies the elementwise losses before the reduction.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import bce as K

__all__ = ["BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "DistanceLoss"]


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    # (an integer sum is int64, as torch's)
    total = loss.sum(dtype=np.int64 if loss.dtype.kind in "iu" else loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    return np.asarray(total / loss.dtype.type(max(loss.size, 1)) if loss.size
                      else loss.dtype.type(np.nan))


def _expand_grad(grad, shape, dtype, reduction):
    """The upstream gradient as a full, flat per-element array (scaled by 1/n for 'mean')."""
    n = int(np.prod(shape))
    if reduction == "none":
        return np.ascontiguousarray(grad, dtype=dtype).reshape(-1)
    g = dtype.type(grad) / dtype.type(n) if reduction == "mean" else dtype.type(grad)
    return np.full(n, g, dtype)


def _full(a, shape, dtype):
    """``a`` broadcast to ``shape``, as a contiguous flat array of ``dtype``."""
    return np.ascontiguousarray(np.broadcast_to(a.astype(dtype, copy=False), shape)).reshape(-1)


class BinaryCrossEntropy(Function):
    """``apply(input, target, weight, reduction=)``: input holds probabilities in [0, 1]."""

    node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, t, w, *, reduction):
        dt = x.dtype
        xf, tf = _full(x, x.shape, dt), _full(t, x.shape, dt)
        raw = np.empty_like(xf)
        K.bce_forward(raw, xf, tf)
        wf = None if w is None else _full(w, x.shape, dt)
        loss = raw if wf is None else raw * wf
        ctx.save_for_backward(x, t, w)
        ctx.reduction = reduction
        return _reduce(loss.reshape(x.shape), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, w = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        dt = x.dtype
        g = _expand_grad(grad, x.shape, dt, ctx.reduction)
        if w is not None:
            g = g * _full(w, x.shape, dt)
        gx = np.empty_like(g) if need_x else g[:0]
        gt = np.empty_like(g) if need_t else g[:0]
        K.bce_backward(gx, gt, g, _full(x, x.shape, dt), _full(t, x.shape, dt), int(need_x),
                       int(need_t))
        return (gx.reshape(x.shape) if need_x else None, gt.reshape(x.shape) if need_t else None,
                None)


class BinaryCrossEntropyWithLogits(Function):
    """``apply(input, target, weight, pos_weight, reduction=)``: the stable log-sigmoid form."""

    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, t, w, pw, *, reduction):
        dt = x.dtype
        xf, tf = _full(x, x.shape, dt), _full(t, x.shape, dt)
        pwf = xf[:1] if pw is None else _full(pw, x.shape, dt)
        raw = np.empty_like(xf)
        K.bce_logits_forward(raw, xf, tf, pwf, int(pw is not None))
        loss = raw if w is None else raw * _full(w, x.shape, dt)
        ctx.save_for_backward(x, t, w, pw)
        ctx.reduction = reduction
        return _reduce(loss.reshape(x.shape), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, w, pw = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        dt, shape = x.dtype, x.shape
        g = _expand_grad(grad, shape, dt, ctx.reduction)
        if w is not None:
            g = g * _full(w, shape, dt)
        xf = _full(x, shape, dt)
        pwf = xf[:1] if pw is None else _full(pw, shape, dt)
        gx, gt = (np.empty_like(g) if need else g[:0] for need in (need_x, need_t))
        K.bce_logits_backward(gx, gt, g, xf, _full(t, shape, dt), pwf, int(pw is not None),
                              int(need_x), int(need_t))
        return (gx.reshape(shape) if need_x else None, gt.reshape(shape) if need_t else None,
                None, None)


class DistanceLoss(Function):
    """``apply(input, target, kind=, beta=, reduction=)`` for ``d = input - target`` (broadcast):
    'mse' ``d^2``; 'l1' ``|d|``; 'smooth_l1' ``0.5 d^2 / beta`` inside ``|d| < beta``, else ``|d| - beta/2``;
    'huber' ``0.5 d^2`` inside ``|d| < beta``, else ``beta (|d| - beta/2)``."""

    @staticmethod
    def forward(ctx, x, t, *, kind, beta, reduction):
        d = x - t
        a = np.abs(d)
        b = d.dtype.type(beta)
        if kind == "mse":
            loss = d * d
        elif kind == "l1" or beta == 0:
            loss = a if kind != "huber" else a * b
        elif kind == "smooth_l1":
            loss = np.where(a < b, d * d * d.dtype.type(0.5) / b, a - b / 2)
        else:
            loss = np.where(a < b, d * d * d.dtype.type(0.5), b * (a - b / 2))
        # torch's mse/smooth_l1/huber save input and target (so changing either in place before
        # backward is its version error); its l1_loss is composite and saves only the difference
        ctx.save_for_backward(d, *(() if kind == "l1" else (x, t)))
        ctx.static = (kind, beta, reduction)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        d = ctx.saved_tensors[0]
        kind, beta, reduction = ctx.static
        b = d.dtype.type(beta)
        one = d.dtype.type(1)
        # torch's sign: 0 at 0 and at NaN; its smooth-l1 and huber branches, NaN included
        s = (d > 0).astype(d.dtype) - (d < 0).astype(d.dtype)
        if kind == "mse":
            dl = d * d.dtype.type(2)
        elif kind == "l1" or beta == 0:
            dl = s if kind != "huber" else s * b
        elif kind == "smooth_l1":
            dl = np.where(d <= -b, -one, np.where(d >= b, one, d / b))
        else:
            dl = np.clip(d, -b, b)
        gd = _expand_grad(grad, d.shape, d.dtype, reduction).reshape(d.shape) * dl
        need_x, need_t = ctx.needs_input_grad
        return (gd if need_x else None), (-gd if need_t else None)

    node_name = "DistanceLossBackward0"
    _NAMES = {"mse": "MseLossBackward0", "smooth_l1": "SmoothL1LossBackward0",
              "huber": "HuberLossBackward0"}

    @staticmethod
    def name_for(is_tensor, arrays, static):
        # torch's names; its l1 (and smooth_l1 with beta 0) is composite: abs, then the reduction
        if static["kind"] == "l1" or static["beta"] == 0 and static["kind"] == "smooth_l1":
            return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(static["reduction"],
                                                                       "AbsBackward0")
        return DistanceLoss._NAMES[static["kind"]]
