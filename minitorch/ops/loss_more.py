"""Elementwise losses with their reduction fused in: binary cross-entropy on probabilities and
on logits (numba kernels; like PyTorch they give no gradient to ``weight``/``pos_weight``, which
the functional layer refuses to take with ``requires_grad``), and the distance losses MSE, smooth L1 and Huber (numpy).

Each Function returns the reduced loss (a 0-d array for 'mean'/'sum', the elementwise losses for
'none'); backward scales the incoming gradient (by 1/n for 'mean') and computes a gradient only
for the inputs that need one. ``weight`` multiplies the elementwise losses before the reduction.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import bce as K
from .activation_more import Softplus
from .elementwise import Where

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


def _scaled_graph(grad, shape, reduction):
    """``_expand_grad`` for ``backward_graph``: the upstream Tensor gradient, over n for 'mean'
    (it broadcasts where the array form is expanded)."""
    return grad / max(int(np.prod(shape)), 1) if reduction == "mean" else grad


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

    @staticmethod
    def backward_graph(ctx, grad):
        """torch's formulas in recorded ops: d/dx = (x - t) / max(x (1 - x), 1e-12), d/dt =
        log(1 - x) - log(x); the weight is a constant."""
        x_arr, t_arr, w = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        x, t = ctx.saved_input(0, x_arr), ctx.saved_input(1, t_arr)
        g = _scaled_graph(grad, x_arr.shape, ctx.reduction)
        if w is not None:
            g = g * ctx.constant(w)
        gx = g * (x - t) / ((1 - x) * x).clamp(min=K._EPS) if need_x else None
        gt = g * ((1 - x).log() - x.log()) if need_t else None
        return gx, gt, None


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

    @staticmethod
    def backward_graph(ctx, grad):
        """d/dx = lw sigmoid(x) - pw t, d/dt = (pw - 1) softplus(-x) - x (``lw = 1 + (pw - 1)
        t``), in recorded ops; weight and pos_weight are constants, as torch's."""
        x_arr, t_arr, w, pw = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        x, t = ctx.saved_input(0, x_arr), ctx.saved_input(1, t_arr)
        g = _scaled_graph(grad, x_arr.shape, ctx.reduction)
        if w is not None:
            g = g * ctx.constant(w)
        p = 1.0 if pw is None else ctx.constant(pw)
        gx = g * ((1 + (p - 1) * t) * x.sigmoid() - p * t) if need_x else None
        gt = g * ((p - 1) * Softplus.apply(-x, beta=1.0, threshold=20.0) - x) if need_t else None
        return gx, gt, None, None


class DistanceLoss(Function):
    """``apply(input, target, kind=, beta=, reduction=)`` for ``d = input - target`` (broadcast):
    'mse' ``d^2``; 'smooth_l1' ``0.5 d^2 / beta`` inside ``|d| < beta``, else ``|d| - beta/2``;
    'huber' ``0.5 d^2`` inside ``|d| < beta``, else ``beta (|d| - beta/2)``. (L1, and smooth L1
    with beta 0, are composite in the functional layer, as torch's.)"""

    @staticmethod
    def forward(ctx, x, t, *, kind, beta, reduction):
        d = x - t
        a = np.abs(d)
        b = d.dtype.type(beta)
        if kind == "mse":
            loss = d * d
        elif kind == "smooth_l1":
            loss = np.where(a < b, d * d * d.dtype.type(0.5) / b, a - b / 2)
        else:
            loss = np.where(a < b, d * d * d.dtype.type(0.5), b * (a - b / 2))
        # as torch's, they save input and target (changing either in place before backward is
        # its version error)
        ctx.save_for_backward(d, x, t)
        ctx.static = (kind, beta, reduction)
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        d = ctx.saved_tensors[0]
        kind, beta, reduction = ctx.static
        b = d.dtype.type(beta)
        one = d.dtype.type(1)
        # torch's smooth-l1 and huber branches, NaN included
        if kind == "mse":
            dl = d * d.dtype.type(2)
        elif kind == "smooth_l1":
            dl = np.where(d <= -b, -one, np.where(d >= b, one, d / b))
        else:
            dl = np.clip(d, -b, b)
        gd = _expand_grad(grad, d.shape, d.dtype, reduction).reshape(d.shape) * dl
        need_x, need_t = ctx.needs_input_grad
        return (gd if need_x else None), (-gd if need_t else None)

    @staticmethod
    def backward_graph(ctx, grad):
        """The gradient in recorded ops (differentiable again): ``d`` from the saved inputs, the
        flat parts of smooth L1 and Huber as constants."""
        d_saved, x, t = ctx.saved_tensors
        kind, beta, reduction = ctx.static
        d = ctx.saved_input(0, x) - ctx.saved_input(1, t)
        if kind == "mse":
            dl = d * 2.0
        else:
            b = d_saved.dtype.type(beta)
            inside = ~((d_saved <= -b) | (d_saved >= b))   # NaN counts as inside, as backward
            flat = np.clip(d_saved, -b, b)
            linear = d / beta if kind == "smooth_l1" else d
            dl = Where.apply(ctx.constant(inside), linear,
                             ctx.constant(flat / b if kind == "smooth_l1" else flat))
        gd = _scaled_graph(grad, d_saved.shape, reduction) * dl
        need_x, need_t = ctx.needs_input_grad
        return (gd if need_x else None), (-gd if need_t else None)

    node_name = "DistanceLossBackward0"
    _NAMES = {"mse": "MseLossBackward0", "smooth_l1": "SmoothL1LossBackward0",
              "huber": "HuberLossBackward0"}

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return DistanceLoss._NAMES[static["kind"]]
