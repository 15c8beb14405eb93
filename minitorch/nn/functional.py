"""``minitorch.nn.functional``: PyTorch's functional layer API over minitorch's Functions.

Each function validates its arguments at the boundary (a wrong rank or channel count names the
expected and the actual shape) and hands arrays to one Function from ``minitorch.ops``; the heavy
ones run on the numba kernels.
"""
import numpy as np

from .. import _ops_math, _ops_nn_loss, _registry
from .. import random as _random
from ..functions import _wrapped_number
from ..autograd.grad_mode import is_grad_enabled
from ..kernels import activation as _act_kernels
from ..ops import activation as _act
from ..ops import conv as _conv
from ..ops import linear as _linear
from ..ops import loss as _loss
from ..ops import softmax as _softmax
from ..ops import norm as _norm
from ..ops import pool as _pool
from ..tensor import Tensor
from .._nn_checks import legacy_reduction as _legacy_reduction

__all__ = ["conv2d", "linear", "relu", "relu_", "batch_norm", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "dropout", "cross_entropy", "nll_loss", "mse_loss", "softmax",
           "log_softmax", "flatten",
           # issue 12: the 1-d layers (imported at the end of this file); the activations,
           # losses, layer_norm, pad, ... are declared in minitorch/_ops_nn*.py (DECLARED below)
           "sigmoid", "tanh", "conv1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
           "dropout2d",
           # core-nn
           "softmin"]

# The F. entries declared with the ops (functional=... in minitorch/_ops_*.py; see _registry).
# A function defined below with the same name would silently replace one: the registry test
# checks there is none.
DECLARED = _registry.REGISTRY.functional(_wrapped_number)
globals().update(DECLARED)
__all__ += list(DECLARED)


class TargetOutOfBoundsError(IndexError, ValueError):
    """A class-index target outside [0, C) (PyTorch raises IndexError here)."""


class ConvolutionError(RuntimeError, ValueError):
    """Arguments a convolution cannot take (weight rank, channels, kernel size, bias, dtypes, a
    strided 'same' padding): PyTorch raises RuntimeError, minitorch's argument checks raise
    ValueError; either ``except`` catches it."""


def _pair(value, name, fn, minimum):
    """An int or a 2-sequence of ints as a tuple of two, each at least ``minimum``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _batched(input, fn, what="(N, C, H, W)"):
    """Accept (N, C, H, W) or unbatched (C, H, W); return the 4-d tensor and whether to squeeze."""
    if input.ndim == 4:
        return input, False
    if input.ndim == 3:
        return input.reshape((1,) + tuple(input.shape)), True
    raise ValueError(f"{fn}: expected a 3-d (C, H, W) or 4-d {what} input, "
                     f"got shape {tuple(input.shape)}")


def _unbatch(out, squeeze):
    return out.reshape(tuple(out.shape[1:])) if squeeze else out


# ----------------------------------------------------------------------------- layers
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) of (N, C, H, W) with weight (O, C/groups, KH, KW)."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups)


def _convolution(input, weight, bias, stride, padding, dilation, groups, fn="conv2d",
                 shown=None):
    """``conv2d``, or (``fn="conv1d"``) conv1d of a batched (N, C, L) input and an (O, C, K)
    weight as a height-1 convolution (``stride``, ``padding`` and ``dilation`` pairs whose first
    entries are 1, 0, 1). Its argument errors name ``fn`` and the shapes of ``shown`` (the
    caller's (input, weight), by default these)."""
    shown_x, shown_w = shown or (input, weight)
    stride = _pair(stride, "stride", fn, 1)
    dilation = _pair(dilation, "dilation", fn, 1)
    if fn == "conv1d":
        x, squeeze, x_hw = input, False, (1, input.shape[2])
        w_shape = (weight.shape[0], weight.shape[1], 1, weight.shape[2])
    else:
        x, squeeze = _batched(input, fn)
        if weight.ndim != 4:
            raise ConvolutionError(f"{fn}: expected a 4-d weight (O, C/groups, KH, KW), got "
                                   f"shape {tuple(weight.shape)}")
        x_hw, w_shape = x.shape[2:], tuple(weight.shape)
    O, Cg, KH, KW = w_shape
    if O == 0:
        raise ConvolutionError(f"{fn}: weight of shape {tuple(shown_w.shape)} has no output "
                               f"channels (at least 1 expected at dimension 0)")
    padding = _conv_padding(padding, stride, dilation, (KH, KW), fn)
    if not isinstance(groups, (int, np.integer)) or groups < 1 or O % groups:
        raise ConvolutionError(f"{fn}: groups={groups!r} must be a positive int dividing the "
                               f"{O} output channels")
    if x.shape[1] != Cg * groups:
        raise ConvolutionError(f"{fn}: weight of shape {tuple(shown_w.shape)} with "
                               f"groups={groups} expects input with {Cg * groups} channels, "
                               f"got input of shape {tuple(shown_x.shape)}")
    if bias is not None and tuple(bias.shape) != (O,):
        raise ConvolutionError(f"{fn}: bias must have shape ({O},), got "
                               f"{tuple(bias.shape)}")
    if x._data.dtype != weight._data.dtype:
        raise ConvolutionError(f"{fn}: input dtype {x.dtype} and weight dtype {weight.dtype} "
                               f"differ")
    spatial = len(shown_w.shape) - 2   # (the caller's kernel dimensions, the last of the pair)
    for i, k in enumerate((KH, KW)):
        if x_hw[i] + 2 * padding[i] < dilation[i] * (k - 1) + 1:
            raise ConvolutionError(
                f"{fn}: kernel {tuple(shown_w.shape[2:])} (dilation {dilation[-spatial:]}) is "
                f"larger than the padded input of shape {tuple(shown_x.shape)} (padding "
                f"{padding[-spatial:]})")
    out = _conv.Convolution.apply(x, weight, bias, stride=stride, padding=padding,
                                  dilation=dilation, groups=int(groups))
    return _unbatch(out, squeeze)


def _conv_padding(padding, stride, dilation, kernel, fn="conv2d"):
    """Numeric padding pair from an int, a pair, 'valid' or 'same' (stride 1, symmetric only)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != (1, 1):
            raise ConvolutionError(f"{fn}: padding='same' is not supported for strided "
                                   "convolutions")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        if any(t % 2 for t in totals):
            raise ValueError(f"{fn}: padding='same' with kernel {kernel} and dilation "
                             f"{dilation} needs asymmetric padding, which is not supported")
        return totals[0] // 2, totals[1] // 2
    return _pair(padding, "padding", fn, 0)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` over the last dim of ``input``."""
    if weight.ndim != 2 or input.ndim < 1 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not match weight of "
                         f"shape {tuple(weight.shape)} (expected input (*, {weight.shape[-1]}))")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    return _linear.Linear.apply(input, weight, bias)


def relu(input, inplace=False):
    """``max(input, 0)``; ``inplace=True`` overwrites ``input`` (as ``input.relu_()``)."""
    if not inplace:
        return _act.ReLU.apply(input)
    data = input._data
    if (is_grad_enabled() and input.requires_grad) or not data.flags.c_contiguous \
            or data.dtype.kind != "f":
        return input.relu_()  # recorded (or unusual layout): the core's in-place protocol
    # nothing to record: one pass over the array in place, no temporary (frozen/eval paths)
    _act_kernels.relu_forward(data.reshape(-1), data.reshape(-1))
    input._bump_version()
    return input


def relu_(input):
    return input.relu_()


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over dim 1 of an (N, C, *) input, PyTorch's ``F.batch_norm``.

    In training the batch statistics normalise (biased variance) and, when running statistics
    are given, update them in place: ``r = (1 - momentum) * r + momentum * batch`` with the
    unbiased variance. Otherwise ``running_mean``/``running_var`` normalise.
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                relu=False):
    """``batch_norm``; ``relu=True``: ``relu(batch_norm(...))`` as one node, one pass forward
    and one backward (``minitorch.nn.fuse`` takes it where the graph is exactly a BatchNorm2d
    then a ReLU, inside a model, where no one can see the intermediate)."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an (N, C, *) input, got shape "
                         f"{tuple(input.shape)}")
    C = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(f"batch_norm: {name} of shape {tuple(t.shape)} does not match the "
                             f"{C} channels of input of shape {tuple(input.shape)}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given when "
                         "training=False")
    if training and input._data.size // C <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {tuple(input.shape)}")
    stats = (running_mean._data if running_mean is not None else None,
             running_var._data if running_var is not None else None)
    out = _norm.BatchNorm.apply(input, weight, bias, running_mean=stats[0],
                                running_var=stats[1], training=bool(training),
                                momentum=float(momentum or 0.0), eps=float(eps), relu=relu)
    if training and running_mean is not None:
        running_mean._bump_version()
        running_var._bump_version()
    return out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each window; with ``return_indices`` also the flat ``h*W + w`` argmax."""
    x, squeeze = _batched(input, "max_pool2d")
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d", 1)
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride", "max_pool2d", 1)
    padding = _pair(padding, "padding", "max_pool2d", 0)
    dilation = _pair(dilation, "dilation", "max_pool2d", 1)
    _check_pool_padding("max_pool2d", padding, kernel, dilation)
    out_hw = _pool_out_hw(x, kernel, stride, padding, dilation, ceil_mode, "max_pool2d")
    res = _pool.MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                                dilation=dilation, out_hw=out_hw,
                                return_indices=bool(return_indices))
    if return_indices:
        return _unbatch(res[0], squeeze), _unbatch(res[1], squeeze)
    return _unbatch(res, squeeze)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over each window (padding counted unless ``count_include_pad=False``)."""
    x, squeeze = _batched(input, "avg_pool2d")
    kernel = _pair(kernel_size, "kernel_size", "avg_pool2d", 1)
    stride = kernel if stride is None or stride == [] else _pair(stride, "stride", "avg_pool2d", 1)
    padding = _pair(padding, "padding", "avg_pool2d", 0)
    _check_pool_padding("avg_pool2d", padding, kernel, (1, 1))
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be > 0, got {divisor_override!r}")
    out_hw = _pool_out_hw(x, kernel, stride, padding, (1, 1), ceil_mode, "avg_pool2d")
    out = _pool.AvgPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                                out_hw=out_hw, count_include_pad=bool(count_include_pad),
                                divisor=int(divisor_override or 0))
    return _unbatch(out, squeeze)


def _check_pool_padding(fn, padding, kernel, dilation):
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{fn}: padding {padding} should be at most half of the effective "
                             f"kernel size {kernel} (dilation {dilation})")


def _pool_out_hw(x, kernel, stride, padding, dilation, ceil_mode, fn):
    out_hw = tuple(_pool.pool_output_size(x.shape[2 + i], kernel[i], stride[i], padding[i],
                                          dilation[i], bool(ceil_mode)) for i in range(2))
    if min(out_hw) < 1:
        raise ValueError(f"{fn}: kernel {kernel} is too large for input of shape "
                         f"{tuple(x.shape)}: output size would be {out_hw}")
    return out_hw


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to ``output_size`` (int, pair, or a pair with None = keep that size)."""
    x, squeeze = _batched(input, "adaptive_avg_pool2d")
    size = (output_size, output_size) if isinstance(output_size, (int, np.integer)) \
        else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    size = tuple(int(x.shape[2 + i]) if s is None else int(s) for i, s in enumerate(size))
    if min(size) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    out = _pool.AdaptiveAvgPool2d.apply(x, output_size=size)
    return _unbatch(out, squeeze)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` in training.

    The mask comes from minitorch's global generator (``mt.manual_seed`` makes it repeatable).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    keep = _random.default_generator().random(input.shape, dtype=np.float32) >= p
    scale = dt.type(0.0 if p == 1.0 else 1.0 / (1.0 - p))
    mask = Tensor._new(keep.astype(dt) * scale)
    return input.mul_(mask) if inplace else input * mask


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


# ----------------------------------------------------------------------------- softmax, losses
def _softmax_dim(ndim, dim):
    if dim is None:  # PyTorch's implicit choice (deprecated there, kept for compatibility)
        dim = 0 if ndim in (0, 1, 3) else 1
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"dim {dim} is out of range for a {ndim}-d input")
    return dim % max(ndim, 1)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _ops_math.softmax(input, _softmax_dim(input.ndim, dim), dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-input)`` along ``dim`` (core-nn)."""
    return _ops_math.softmax(-input, _softmax_dim(input.ndim, dim), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _ops_math.log_softmax(input, _softmax_dim(input.ndim, dim), dtype=dtype)


def _check_class_target(fn, input, target, weight, ignore_index):
    """Shapes (N, C, *) vs (N, *) (or (C,) vs ()), and every target in [0, C) or ignored."""
    if input.ndim < 1:
        raise ValueError(f"{fn}: input must have a class dim, got shape {tuple(input.shape)}")
    expected = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{fn}: expected target of shape {expected} for input of shape "
                         f"{tuple(input.shape)}, got target of shape {tuple(target.shape)}")
    C = input.shape[0 if input.ndim == 1 else 1]
    if weight is not None and tuple(weight.shape) != (C,):
        raise ValueError(f"{fn}: weight must have shape ({C},), got {tuple(weight.shape)}")
    t = target._data
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if bad.any():
        raise TargetOutOfBoundsError(f"{fn}: Target {int(t[bad].flat[0])} is out of bounds "
                                     f"for {C} classes.")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits (N, C, *) against class indices (N, *) or probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    if target._data.dtype.kind == "f":
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    if target._data.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: target must hold class indices (int64) or "
                         f"probabilities (float), got dtype {target.dtype}")
    _check_class_target("cross_entropy", input, target, weight, ignore_index)
    return _loss.CrossEntropy.apply(input, target, weight, ignore_index=int(ignore_index),
                                    reduction=reduction, label_smoothing=float(label_smoothing))


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing):
    """Probability targets: ``-sum_c w_c * q_c * log p_c`` per sample (mean over samples)."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"cross_entropy: probability target must have the input's shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    dim = 0 if input.ndim == 1 else 1
    C = input.shape[dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / C
    prod = log_softmax(input, dim) * target
    if weight is not None:
        prod = prod * weight.reshape((C,) + (1,) * (input.ndim - dim - 1))
    rows = -prod.sum(dim)
    if reduction == "none":
        return rows
    return rows.sum() if reduction == "sum" else rows.sum() / max(rows._data.size, 1)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities (N, C, *) at class indices (N, *)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_class_target("nll_loss", input, target, weight, ignore_index)
    return _loss.NllLoss.apply(input, target, weight, ignore_index=int(ignore_index),
                               reduction=reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean (or summed, or elementwise) squared error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target._data.dtype == np.bool_:  # (torch's kernel reads a bool target as 0/1)
        target = target.type(input.dtype)
    return _ops_nn_loss._distance("mse_loss", input, target, "mse", 0.0, reduction)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


# The 1-d layers compose the 2-d ones above, so their module is imported once those exist.
from ._functional_1d import (adaptive_avg_pool1d, avg_pool1d, conv1d, dropout2d,  # noqa: E402
                             max_pool1d)
from ._attention import scaled_dot_product_attention  # noqa: E402
from ._mha import multi_head_attention_forward  # noqa: E402

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]
