"""``nn.functional`` losses beyond cross-entropy/nll/mse: l1_loss, smooth_l1_loss, huber_loss,
binary_cross_entropy and binary_cross_entropy_with_logits; each declared once as an ``F.`` entry
(``_registry``), checking its arguments and calling one Function of ``ops.loss_more``."""
import numpy as np

from . import _promotion
from .autograd.grad_mode import is_grad_enabled
from ._nn_checks import check_non_negative, check_positive, check_reduction, legacy_reduction
from ._registry import declare
from .ops import loss_more as L

__all__ = ["l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]


def _distance(fn, input, target, kind, beta, reduction):
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        raise ValueError(f"{fn}: input of shape {tuple(input.shape)} and target of shape "
                         f"{tuple(target.shape)} cannot be broadcast together") from None
    dt = _promotion.result_type(input._data, target._data)
    # integers only where torch's composite l1 path takes them (an int mean has no dtype)
    l1_path = kind == "l1" or (kind == "smooth_l1" and beta == 0)
    if dt.kind != "f" and not (dt.kind in "iu" and l1_path and reduction != "mean"):
        raise NotImplementedError(f"{fn}: not implemented for input {input.dtype} and target "
                                  f"{target.dtype} with reduction {reduction!r}")
    x, t = (v if v._data.dtype == dt else v.type(dt) for v in (input, target))
    if l1_path:
        # torch's l1 is composite (sub, abs, then the reduction): its graph, names and second
        # derivative come with it
        loss = (x - t).abs()
        return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.mean())
    return L.DistanceLoss.apply(x, t, kind=kind, beta=float(beta), reduction=reduction)


@declare(method=False, function=False, functional=True, out=False)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean (or summed, or elementwise) absolute error."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    out = _distance("l1_loss", input, target, "l1", 0.0, "none" if weight is not None
                    else reduction)
    return _weighted(out, weight, reduction)


@declare(method=False, function=False, functional=True, out=False)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error ``0.5 d^2 / beta`` below ``beta``, absolute error minus ``beta/2`` above."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    beta = check_non_negative(beta, "beta", "smooth_l1_loss")
    return _distance("smooth_l1_loss", input, target, "smooth_l1", beta, reduction)


@declare(method=False, function=False, functional=True, out=False)
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` below ``delta``, ``delta (|d| - delta/2)`` above."""
    check_reduction(reduction)
    delta = check_positive(delta, "delta", "huber_loss")
    out = _distance("huber_loss", input, target, "huber", delta,
                    "none" if weight is not None else reduction)
    return _weighted(out, weight, reduction)


def _weighted(out, weight, reduction):
    """The elementwise losses times ``weight``, then reduced (torch 2.13's ``weight=`` forms)."""
    if weight is None:
        return out
    out = out * weight
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()


def _check_binary(fn, input, target, extra, mixed_dtypes=False):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{fn}: target size {tuple(target.shape)} must be the same as input "
                         f"size {tuple(input.shape)}")
    if input._data.dtype.kind != "f" or (mixed_dtypes and target._data.dtype.kind != "f"):
        raise RuntimeError(f"{fn}: expected floating-point input and target, got "
                           f"{input.dtype} and {target.dtype}")
    if target._data.dtype != input._data.dtype and not mixed_dtypes:
        raise RuntimeError(f"{fn}: target dtype {target.dtype} differs from input dtype "
                           f"{input.dtype}")
    for name, t in extra:
        if t is None:
            continue
        if t.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{fn}: the function is not differentiable with respect to "
                               f"argument '{name}'; it cannot have requires_grad=True")
        try:
            np.broadcast_shapes(tuple(t.shape), tuple(input.shape))
        except ValueError:
            raise ValueError(f"{fn}: {name} of shape {tuple(t.shape)} does not broadcast to "
                             f"input of shape {tuple(input.shape)}") from None


@declare(method=False, function=False, functional=True, out=False)
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-w (t log p + (1 - t) log(1 - p))`` of probabilities ``p``; each log clamped at -100."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_binary("binary_cross_entropy", input, target, (("weight", weight),))
    x = input._data
    if x.size and not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    return L.BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


@declare(method=False, function=False, functional=True, out=False)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid plus binary cross-entropy in one stable expression; ``pos_weight`` scales the
    positive term (broadcast over the last dim, one per class)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_binary("binary_cross_entropy_with_logits", input, target,
                  (("weight", weight), ("pos_weight", pos_weight)), mixed_dtypes=True)
    if input._data.dtype != target._data.dtype:
        # torch computes in the target's dtype (its formula starts from ``1 - target``)
        input = input.to(target.dtype)
    return L.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight,
                                                reduction=reduction)
