"""The 1-d layers of ``nn.functional`` (conv1d, max/avg/adaptive-avg pool1d) and dropout2d.

A 1-d op is its 2-d counterpart on a height-1 image: ``(N, C, L)`` is viewed as
``(N, C, 1, L)`` (and a weight ``(O, C, K)`` as ``(O, C, 1, K)``), so values, gradients and the
fused kernels are exactly the 2-d ones. The rank is checked here, and conv1d's other argument
errors come from conv2d's checks with the 1-d op's name and shapes.
"""
import numbers

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import is_grad_enabled
from .._nn_checks import check_probability
from . import functional as F

__all__ = ["conv1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "dropout2d"]


def _single(value, name, fn):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{fn}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    if not isinstance(value, numbers.Integral):
        raise ValueError(f"{fn}: {name} must be an int, got {value!r}")
    return int(value)


def _as_2d(input, fn, kinds="f"):
    """(N, C, L) -> (N, C, 1, L) and (C, L) -> (C, 1, L), for the dtype kinds PyTorch's 1-d
    kernel takes (floating point; avg_pool1d integers too)."""
    if input.ndim not in (2, 3):
        raise ValueError(f"{fn}: expected a 2-d (C, L) or 3-d (N, C, L) input, got shape "
                         f"{tuple(input.shape)}")
    if input._data.dtype.kind not in kinds:
        raise NotImplementedError(f"{fn}: not implemented for dtype {input.dtype}")
    return input.unsqueeze(-2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) of (N, C, L) with weight (O, C/groups, K): one
    ``ConvolutionBackward0`` node, as torch's, on height-1 views inside."""
    _as_2d(input, "conv1d")   # (the rank and dtype checks)
    if weight.ndim != 3:
        raise F.ConvolutionError(f"conv1d: expected a 3-d weight (O, C/groups, K), got shape "
                                 f"{tuple(weight.shape)}")
    stride, dilation = _single(stride, "stride", "conv1d"), _single(dilation, "dilation", "conv1d")
    pad = padding if isinstance(padding, str) else (0, _single(padding, "padding", "conv1d"))
    x = input if input.ndim == 3 else input.unsqueeze(0)
    total = dilation * (weight.shape[-1] - 1)
    if padding == "same" and stride == 1 and total % 2:
        # an even effective kernel: torch pads the extra column on the right, as here
        x, pad = F.pad(x, (total // 2, total - total // 2)), (0, 0)
    out = F._convolution(x, weight, bias, (1, stride), pad, (1, dilation), groups, "conv1d",
                         (input, weight))
    return out if input.ndim == 3 else out.squeeze(0)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each window of L; indices (with ``return_indices``) are positions in L."""
    x = _as_2d(input, "max_pool1d")
    k = _single(kernel_size, "kernel_size", "max_pool1d")
    s = k if stride is None or stride == [] else _single(stride, "stride", "max_pool1d")
    res = F.max_pool2d(x, (1, k), (1, s), (0, _single(padding, "padding", "max_pool1d")),
                       (1, _single(dilation, "dilation", "max_pool1d")), ceil_mode,
                       return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    if not (input.requires_grad and is_grad_enabled()):
        # torch's kernel without autograd: a tensor of its own, not a view (an in-place change
        # of it under grad mode is then allowed, as there)
        return input._new(res._data[..., 0, :])
    return res.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over each window of L (padding counted unless ``count_include_pad=False``)."""
    x = _as_2d(input, "avg_pool1d", "fiu")
    k = _single(kernel_size, "kernel_size", "avg_pool1d")
    s = k if stride is None or stride == [] else _single(stride, "stride", "avg_pool1d")
    out = F.avg_pool2d(x, (1, k), (1, s), (0, _single(padding, "padding", "avg_pool1d")),
                       ceil_mode, count_include_pad)
    return out.squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of L to ``output_size`` windows."""
    x = _as_2d(input, "adaptive_avg_pool1d")
    size = _single(output_size, "output_size", "adaptive_avg_pool1d")
    if input.shape[-1] == 0:
        if size != 1:
            raise RuntimeError(f"adaptive_avg_pool1d: input of shape {tuple(input.shape)} is "
                               f"empty along L: cannot pool it to {size} windows")
        return input.mean(-1, keepdim=True)  # one window over nothing: NaN, as in torch
    return F.adaptive_avg_pool2d(x, (1, size)).squeeze(-2)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (sample, channel) plane of an (N, C, H, W) input is dropped
    with probability ``p``, the rest scaled by ``1/(1-p)``. A 3-d input is (N, C, L), as in
    PyTorch 2.13 (which warns that this will change)."""
    p = check_probability(p)
    if input.ndim < 2:
        raise ValueError(f"dropout2d: expected a 3-d or 4-d input, got shape "
                         f"{tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    dt = input._data.dtype
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = _random.default_generator().random(shape, dtype=np.float32) >= p
    scale = dt.type(0.0 if p == 1.0 else 1.0 / (1.0 - p))
    mask = input._new(keep.astype(dt) * scale)
    return input.mul_(mask) if inplace else input * mask
