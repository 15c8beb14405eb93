"""``nn.functional`` distances and the losses built on them or on pointwise maths:
cosine_similarity, pairwise_distance, pdist, kl_div, margin_ranking_loss, triplet_margin_loss,
cosine_embedding_loss, hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss,
gaussian_nll_loss, poisson_nll_loss; each declared once (``_registry``).

Each is torch's own composition of differentiable ops (so values agree to rounding and the
gradients come from the ops'), with torch's argument checks and messages.
"""
import math
import numbers

import numpy as np

from ._nn_checks import check_reduction, legacy_reduction
from ._ops_nn_act_extra import logsigmoid
from ._ops_reduce import norm
from ._ops_shape import where
from ._registry import declare
from .autograd.grad_mode import no_grad
from .ops.adjoint import OnceDifferentiable

__all__ = ["cosine_similarity", "pairwise_distance", "pdist", "kl_div", "margin_ranking_loss",
           "triplet_margin_loss", "cosine_embedding_loss", "hinge_embedding_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "gaussian_nll_loss",
           "poisson_nll_loss"]

_F = dict(method=False, function=False, functional=True, out=False)


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _floating(fn, *tensors):
    for t in tensors:
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"{fn}: expected a floating-point input, got {t.dtype}")


def _broadcast(fn, a, b):
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(f"{fn}: The size of tensor a ({tuple(a.shape)}) must match the size "
                           f"of tensor b ({tuple(b.shape)})") from None
    return a.expand(shape), b.expand(shape)


def _clamped_min(t, lo):
    """``t`` with its values raised to ``lo`` outside autograd, as torch's cosine_similarity
    and gaussian_nll_loss do (the gradient flows as if unclamped)."""
    t = t.clone()
    with no_grad():
        t.clamp_(min=lo)
    return t


@declare(method=False, function=True, functional=True, out=False)
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``<x1 / max(|x1|, eps), x2 / max(|x2|, eps)>`` along ``dim`` (broadcasting)."""
    _floating("cosine_similarity", x1, x2)
    a, b = _broadcast("cosine_similarity", x1, x2)
    na = _clamped_min(norm(a, 2, dim=dim, keepdim=True), eps)
    nb = _clamped_min(norm(b, 2, dim=dim, keepdim=True), eps)
    return ((a / na) * (b / nb)).sum(dim)


@declare(method=False, function=True, functional=True, out=False)
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim."""
    _floating("pairwise_distance", x1, x2)
    dim = max(x1.ndim, x2.ndim) - 1
    if dim < 0:
        raise RuntimeError("pairwise_distance: expected at least 1-d inputs")
    return norm(x1 - x2 + eps, p, dim=dim, keepdim=keepdim)


@declare(method=False, function=True, functional=True, out=False)
def pdist(input, p=2):
    """The p-norm distances between the rows of an (N, M) input, pairs i < j in row order."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not p >= 0:
        raise RuntimeError("pdist only supports non-negative p values")
    _floating("pdist", input)
    i, j = np.triu_indices(input.shape[0], 1)
    # torch's pdist has no double backward: its error under create_graph, not a derivative
    return OnceDifferentiable.apply(norm(input[i] - input[j], p, dim=1),
                                    node_name="PdistBackward0", message=(
                                        "the derivative for '_pdist_backward' is not "
                                        "implemented."))


@declare(**_F)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """``target * (log target - input)`` of log-probabilities ``input`` (0 where target is 0);
    ``log_target``: the target is a log-probability too; ``reduction='batchmean'`` divides the
    sum by the batch size (the true KL divergence per sample)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, "mean")
    elif reduction != "batchmean":
        check_reduction(reduction, "kl_div")
    _floating("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t): 0 at t = 0 with a finite gradient (log of 1 where t is not positive)
        safe = where(target > 0, target, 1.0)
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


@declare(**_F)
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same "
                           f"dimension but got sizes: input1: {tuple(input1.shape)}, input2: "
                           f"{tuple(input2.shape)}, target: {tuple(target.shape)} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


@declare(**_F)
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where target is 1, ``max(0, margin - input)`` where it is -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    zeros = input._new(np.zeros((), input._data.dtype))
    margin_part = where(target != 1, (margin - input).clamp(min=0), zeros)
    self_part = where(target != -1, input, zeros)
    return _reduce(margin_part + self_part, reduction)


@declare(**_F)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce((-input * target).exp().log1p(), reduction)


@declare(**_F)
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """The binary logistic loss of every class, averaged over the classes (last dim)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    C = input.shape[-1] if input.ndim else 1
    return _reduce(loss.sum(input.ndim - 1 if input.ndim else None) / C, reduction)


@declare(**_F)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(input1, input2)`` where target is 1, ``max(0, cos - margin)`` where -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    td = target.ndim
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if td == 1 else 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(f"{td}D target tensor expects {want}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    prod = (input1 * input2).sum(td)
    mag1 = (input1 * input1).sum(td) + 1e-12
    mag2 = (input2 * input2).sum(td) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    zeros = cos._new(np.zeros((), cos._data.dtype))
    out = where(target == 1, 1 - cos, zeros) + where(target == -1, (cos - margin).clamp(min=0),
                                                     zeros)
    return _reduce(out, reduction)


@declare(**_F)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with pairwise distances
    (``swap``: the smaller of d(a, n) and d(p, n))."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = where(d_swap < d_neg, d_swap, d_neg)
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


@declare(**_F)
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``0.5 * (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` when ``full``), with
    ``var`` clamped to ``eps`` outside autograd; ``var`` of ``input``'s shape, one dim short of
    it, broadcastable with one mismatched dim, or a number."""
    if isinstance(var, numbers.Real):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input._new(np.full(tuple(input.shape), var, input._data.dtype))
    elif (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    var = _clamped_min(var, eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@declare(**_F)
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """``exp(input) - target * input`` (``log_input``) or ``input - target * log(input +
    eps)``; ``full`` adds Stirling's term where target > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target
        safe = where(t > 1, t, 1.0)
        stirling = t * safe.log() - t + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(t > 1, stirling, 0.0)
    return _reduce(loss, reduction)
