"""Conv2d followed by an eval-mode BatchNorm2d, folded into one convolution when nothing trains.

In a frozen backbone the BatchNorm is an affine map with fixed numbers, ``y = s * conv(x) + t``
with ``s = gamma / sqrt(running_var + eps)`` and ``t = beta - s * running_mean``, so it can ride
on the convolution: ``conv(x, s * W) + t``. That saves the BatchNorm's full pass over the
activation (7% of a frozen ResNet-18 forward at 224x224) and its output array. PyTorch eager
runs both; this is the room a frozen backbone leaves.

The fold is only taken when it cannot change what the user sees: BatchNorm in eval mode with
running statistics, no gradient wanted for the convolution's or BatchNorm's parameters, and no
hooks on either module. Otherwise ``bn(conv(x))`` runs as written. The folded weights are cached
per convolution and recomputed when any parameter or statistic changes (tracked by the tensors'
version counters and identities). Results differ from the unfolded path by float32 rounding.

At batch 1 the weights are not folded (see ``conv_bn``); when no graph is recorded the BatchNorm
is applied in place on the convolution's fresh output instead: bitwise the unfused result,
without BatchNorm's output array and Function call.
"""
import weakref

import numpy as np

from minitorch.autograd.grad_mode import is_grad_enabled
from minitorch.kernels import norm as _norm_kernels
from minitorch.nn import functional as F
from minitorch.tensor import Tensor

__all__ = ["conv_bn", "can_fold"]

_folded = weakref.WeakKeyDictionary()  # conv module -> (key, weight Tensor, bias Tensor)
_affine = weakref.WeakKeyDictionary()  # bn module -> (key, mean, invstd, weight, bias) arrays


def can_fold(conv, bn) -> bool:
    """Whether ``bn(conv(x))`` may run as one convolution with folded weights."""
    if bn.training or bn.running_mean is None or bn.running_var is None:
        return False
    if conv._forward_hooks or conv._forward_pre_hooks or bn._forward_hooks \
            or bn._forward_pre_hooks:
        return False
    params = [p for p in (conv.weight, conv.bias, bn.weight, bn.bias) if p is not None]
    return not (is_grad_enabled() and any(p.requires_grad for p in params))


def conv_bn(conv, bn, x):
    """``bn(conv(x))``, as one convolution with folded weights when ``can_fold`` and the batch
    holds more than one sample.

    At batch 1 the fold does not pay: its cached copy of the weights (45 MB for ResNet-18, and
    the Winograd transforms kept for it another 70 MB) costs more memory than the BatchNorm
    pass it saves costs time (a 1x64x112x112 activation at most). There the BatchNorm runs in
    place on the convolution's output instead, when that output needs no graph.
    """
    if not can_fold(conv, bn):
        return bn(conv(x))
    if x.ndim == 4 and x.shape[0] == 1:
        return _bn_in_place(bn, conv(x))
    if x.ndim != 4 or x.shape[1] != conv.in_channels:
        return conv(x)  # let the module raise its usual error
    weight, bias = _folded_weights(conv, bn)
    return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)


def _bn_in_place(bn, y):
    """``bn(y)`` written into ``y`` (a convolution's fresh output) when no graph needs ``y``."""
    if y.requires_grad or not y._data.flags.c_contiguous:
        return bn(y)
    bn._check_input_dim(y)  # BatchNorm's own error for a wrong shape
    y3 = y._data.reshape(y.shape[0], y.shape[1], -1)
    _norm_kernels.batch_norm_apply(y3, y3, *_eval_affine(bn, y._data.dtype), 0)
    return y


def _eval_affine(bn, dtype):
    """(mean, invstd, weight, bias) as ``ops.norm.BatchNorm``'s eval branch forms them, cached
    per module until a statistic or parameter changes (4 x C numbers)."""
    tensors = (bn.running_mean, bn.running_var, bn.weight, bn.bias)
    key = (bn.eps, np.dtype(dtype).str) + tuple(
        (id(t._data), t._version) if t is not None else None for t in tensors)
    cached = _affine.get(bn)
    if cached is None or cached[0] != key:
        C = bn.running_mean.shape[0]
        mean, invstd = np.empty(C, dtype), np.empty(C, dtype)
        mean[...] = bn.running_mean._data
        invstd[...] = 1.0 / np.sqrt(bn.running_var._data.astype(np.float64) + bn.eps)
        w = np.ones(C, dtype) if bn.weight is None else bn.weight._data.astype(dtype)
        b = np.zeros(C, dtype) if bn.bias is None else bn.bias._data.astype(dtype)
        cached = (key, mean, invstd, w, b)
        _affine[bn] = cached
    return cached[1:]


def _state_key(conv, bn):
    tensors = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
    return (id(bn), bn.eps) + tuple((id(t._data), t._version) if t is not None else None
                                    for t in tensors)


def _folded_weights(conv, bn):
    key = _state_key(conv, bn)
    cached = _folded.get(conv)
    if cached is None or cached[0] != key:
        cached = (key, *_fold(conv, bn))
        _folded[conv] = cached
    return cached[1], cached[2]


def _fold(conv, bn):
    """The folded (weight, bias) as new Tensors in the convolution's dtype."""
    dtype = conv.weight._data.dtype
    invstd = 1.0 / np.sqrt(bn.running_var._data.astype(np.float64) + bn.eps)
    gamma = bn.weight._data.astype(np.float64) if bn.weight is not None else 1.0
    beta = bn.bias._data.astype(np.float64) if bn.bias is not None else 0.0
    scale = gamma * invstd
    shift = beta - scale * bn.running_mean._data.astype(np.float64)
    if conv.bias is not None:
        shift = shift + scale * conv.bias._data.astype(np.float64)
    weight = (conv.weight._data.astype(np.float64) * scale.reshape(-1, 1, 1, 1)).astype(dtype)
    # read-only: nothing may change a cached fold in place, and the convolution may then keep
    # derived forms of it (the Winograd-transformed weights)
    weight.flags.writeable = False
    return Tensor(weight), Tensor(np.asarray(shift, dtype))
