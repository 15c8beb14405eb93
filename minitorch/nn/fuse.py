"""Conv2d followed by an eval-mode BatchNorm2d, folded into one convolution when nothing trains.

In a frozen backbone the BatchNorm is an affine map with fixed numbers, ``y = s * conv(x) + t``
with ``s = gamma / sqrt(running_var + eps)`` and ``t = beta - s * running_mean``, so it can ride
on the convolution: ``conv(x, s * W) + t``. That saves the BatchNorm's full pass over the
activation (7% of a frozen ResNet-18 forward at 224x224) and its output array. PyTorch eager
runs both; this is the room a frozen backbone leaves.

The fold is only taken when it cannot change what the user sees: BatchNorm in eval mode with
running statistics, no gradient wanted for the convolution's or BatchNorm's parameters, and no
hooks on either module. Otherwise ``bn(conv(x))`` runs as written. The fold (a scale and a shift
per output channel, and the plans made from them) is cached per convolution and recomputed when
any parameter or statistic changes (tracked by the tensors' version counters and identities).
Results differ from the unfolded path by float32 rounding.

At batch 1 the weights are not folded (see ``conv_bn``); when no graph is recorded the
convolution runs on a plan kept per module (``ops.conv_batch1``) and the BatchNorm, the residual
add and the ReLU run in one pass over its fresh output, bitwise the separate ops on that
output, without their output arrays and Function and module calls (the convolution itself may
take another algorithm than ``F.conv2d`` at 256x256 channels: float32 rounding apart).
"""
import weakref

import numpy as np

from minitorch.autograd.grad_mode import is_grad_enabled
from minitorch.kernels import norm as _norm_kernels
from minitorch.nn import functional as F
from minitorch.nn.modules.activation import ReLU
from minitorch.nn.modules.batchnorm import BatchNorm2d
from minitorch.nn.modules.conv import Conv2d
from minitorch.nn.modules.linear import Identity
from minitorch.nn.modules.pooling import MaxPool2d
from minitorch.ops import conv as conv_ops
from minitorch.ops import conv_batch1
from minitorch.ops import conv_winograd
from minitorch.ops import norm as norm_ops
from minitorch.ops.pool import pool_output_size
from minitorch.tensor import Tensor

__all__ = ["conv_bn", "can_fold", "fold_batch_norm"]

_folded = weakref.WeakKeyDictionary()  # conv module -> _Fold
_affine = weakref.WeakKeyDictionary()  # bn module -> (key, mean, invstd, weight, bias) arrays
_MAX_PLANS = 8  # input shapes planned per convolution


class _Fold:
    """A convolution's folded BatchNorm: the per-output-channel scale (float64) and shift, a
    plan per input shape (``ops.conv.prepare_inference``, which applies the scale itself) and,
    only for the unfused path, the folded weight (made when that path first runs)."""

    def __init__(self, key, scale, bias):
        self.key, self.scale, self.bias = key, scale, bias
        self.weight = None
        self.plans, self.transforms = {}, {}


def can_fold(conv, bn) -> bool:
    """Whether ``bn(conv(x))`` may run as one convolution with folded weights."""
    if bn.training or bn.running_mean is None or bn.running_var is None:
        return False
    if conv._forward_hooks or conv._forward_pre_hooks or bn._forward_hooks \
            or bn._forward_pre_hooks:
        return False
    params = [p for p in (conv.weight, conv.bias, bn.weight, bn.bias) if p is not None]
    return not (is_grad_enabled() and any(p.requires_grad for p in params))


def conv_bn(conv, bn, x, residual=None, relu=None, maxpool=None):
    """``maxpool(relu(bn(conv(x)) + residual))``, each of ``residual`` (a Tensor), ``relu`` (a
    module) and ``maxpool`` (a module) optional; ``bn(conv(x))`` runs as one convolution with
    folded weights when ``can_fold`` and the batch holds more than one sample.

    When nothing is recorded either (no input needs a gradient, or ``no_grad``) and ``relu`` and
    ``maxpool`` are plain ``nn.ReLU`` / ``nn.MaxPool2d`` without hooks, the residual add, the
    ReLU and the max-pool run inside the convolution's last pass (``ops.conv.conv2d_inference``):
    no pass of their own, and the stem's activation before pooling never exists whole. Same
    float operations in the same order: the results equal the unfused path's bitwise.

    At batch 1 the fold does not pay: its cached copy of the weights (45 MB for ResNet-18, and
    the Winograd transforms kept for it another 70 MB) costs more memory than the BatchNorm
    pass it saves costs time (a 1x64x112x112 activation at most). There, when nothing is
    recorded, ``_batch1`` runs the convolution and a one-pass BatchNorm/residual/ReLU epilogue;
    otherwise the BatchNorm runs in place on the convolution's output when that output needs no
    graph.
    """
    if _plain(maxpool, Identity):
        maxpool = None  # (the small variant's "maxpool")
    if not can_fold(conv, bn):
        if residual is None and _bn_relu_fusable(bn, relu):
            y = bn._forward(conv(x), relu=True)
            return y if maxpool is None else maxpool(y)
        y = bn(conv(x))
    elif x.ndim == 4 and x.shape[0] == 1:
        y = _batch1(conv, bn, x, residual, relu)
        if y is not None:
            return y if maxpool is None else maxpool(y)
        y = _bn_in_place(bn, conv(x))
    elif x.ndim != 4 or x.shape[1] != conv.in_channels:
        y = conv(x)  # let the module raise its usual error
    else:
        fold = _fold_for(conv, bn)
        fused = _fused(conv, bn, fold, x, residual, relu, maxpool)
        if fused is not None:
            return fused
        if fold.weight is None:
            fold.weight = _folded_weight(conv, fold)
        y = F.conv2d(x, Tensor._new(fold.weight), Tensor._new(fold.bias), conv.stride, conv.padding,
                     conv.dilation, conv.groups)
    if residual is not None:
        y += residual  # in place, as torchvision's BasicBlock (no new activation)
    if relu is not None:
        y = relu(y)
    return y if maxpool is None else maxpool(y)


def _batch1(conv, bn, x, residual, relu):
    """``relu(bn(conv(x)) + residual)`` for one image when nothing is recorded, or None: the
    convolution on its kept plan, then BatchNorm, the add and the ReLU in one pass over its
    fresh output (``ops.conv_batch1``), bitwise the separate ops on that output, without their
    Function and module calls."""
    if type(conv) is not Conv2d or type(bn) is not BatchNorm2d or not _plain(relu, ReLU) \
            or x.shape[1] != conv.in_channels:
        return None
    if is_grad_enabled() and (x.requires_grad or (residual is not None
                                                  and residual.requires_grad)):
        return None
    data = x._data
    if data.dtype.kind != "f" or data.dtype != conv.weight._data.dtype:
        return None
    data = np.ascontiguousarray(data)
    plan = conv_batch1.plan_for(conv, data.shape)
    out_shape = plan.out_shape
    if out_shape[1] != bn.num_features:
        return None  # BatchNorm raises its own error
    res = None
    if residual is not None:
        if residual.shape != out_shape or residual._data.dtype != data.dtype:
            return None
        res = np.ascontiguousarray(residual._data)
    return Tensor._new(conv_batch1.conv2d(conv, data, _eval_affine(bn, data.dtype), res,
                                          relu is not None, plan))


def _bn_in_place(bn, y):
    """``bn(y)`` written into ``y`` (a convolution's fresh output) when no graph needs ``y``."""
    if y.requires_grad or not y._data.flags.c_contiguous:
        return bn(y)
    bn._check_input_dim(y)  # BatchNorm's own error for a wrong shape
    y3 = y._data.reshape(y.shape[0], y.shape[1], -1)
    _norm_kernels.batch_norm_apply(y3, y3, *_eval_affine(bn, y._data.dtype), 0)
    return y


def _eval_affine(bn, dtype):
    """(mean, invstd, weight, bias) from ``ops.norm.eval_stats`` (BatchNorm's own eval
    numbers), cached per module until a statistic or parameter changes (4 x C numbers)."""
    tensors = (bn.running_mean, bn.running_var, bn.weight, bn.bias)
    key = (bn.eps, np.dtype(dtype).str) + _versions(tensors)
    cached = _affine.get(bn)
    if cached is None or cached[0] != key:
        arrays = [None if t is None else t._data for t in tensors]
        cached = (key,) + norm_ops.eval_stats(*arrays, bn.eps, dtype)
        _affine[bn] = cached
    return cached[1:]


def _versions(tensors):
    """What changes when any of ``tensors`` (None allowed) is replaced or modified in place."""
    return tuple((id(t._data), t._version) if t is not None else None for t in tensors)


def _bn_relu_fusable(bn, relu) -> bool:
    """Whether ``relu(bn(y))`` may run as one BatchNorm node with the ReLU inside (training:
    one pass forward, and in the backward the ReLU's mask applied inside BatchNorm's kernel,
    two passes over the activation fewer; bitwise the separate ops). Only for the plain
    modules without hooks of any kind: nothing outside can then see the BatchNorm's output,
    the one tensor the fused graph does not have."""
    return (relu is not None and _plain(relu, ReLU) and _plain(bn, BatchNorm2d)
            and not (relu._backward_hooks or relu._backward_pre_hooks or bn._backward_hooks
                     or bn._backward_pre_hooks))


def _plain(module, kind) -> bool:
    return module is None or (type(module) is kind and not module._forward_hooks
                              and not module._forward_pre_hooks)


def _fused(conv, bn, fold, x, residual, relu, maxpool):
    """The fused result as a new Tensor, or None when the fused path does not apply."""
    if not (_plain(relu, ReLU) and _plain(maxpool, MaxPool2d)):
        return None
    if is_grad_enabled() and (x.requires_grad or (residual is not None
                                                  and residual.requires_grad)):
        return None  # recorded: the unfused ops keep what backward needs
    data = x._data
    if data.dtype.kind != "f" or data.dtype != fold.bias.dtype:
        return None
    plan = _plan_for(conv, bn, fold, data.shape)
    res = None
    if residual is not None:
        res = residual._data
        if res.shape != plan.out_shape or res.dtype != data.dtype:
            return None
    pool = None
    if maxpool is not None:
        pool = _pool_geometry(maxpool, plan.out_shape[2:])
        if pool is None:
            return None
    out = conv_ops.conv2d_inference(plan, data, fold.bias, res, relu is not None, pool)
    return Tensor._new(out)


def _pair(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 \
            and all(isinstance(v, (int, np.integer)) for v in value):
        return int(value[0]), int(value[1])
    return None


def _pool_geometry(pool, in_hw):
    """``conv_ops.pool_geometry`` for a MaxPool2d module on an (H, W) input, or None when it
    is one the fused path leaves to the module (indices wanted, unusual or invalid arguments:
    the module then raises its usual error)."""
    if pool.return_indices:
        return None
    kernel, padding, dilation = _pair(pool.kernel_size), _pair(pool.padding), _pair(pool.dilation)
    stride = kernel if pool.stride is None else _pair(pool.stride)
    if None in (kernel, stride, padding, dilation):
        return None
    if any(p > (d * (k - 1) + 1) // 2 for p, k, d in zip(padding, kernel, dilation)) \
            or min(kernel + stride + dilation) < 1 or min(padding) < 0:
        return None
    out_hw = tuple(pool_output_size(size, k, s, p, d, bool(pool.ceil_mode))
                   for size, k, s, p, d in zip(in_hw, kernel, stride, padding, dilation))
    if min(out_hw) < 1:
        return None
    return conv_ops.pool_geometry(kernel, stride, padding, dilation, out_hw)


def _state_key(conv, bn):
    tensors = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
    return (id(bn), bn.eps) + _versions(tensors)


def _fold_for(conv, bn):
    key = _state_key(conv, bn)
    cached = _folded.get(conv)
    if cached is None or cached.key != key:
        cached = _Fold(key, *_fold(conv, bn))
        _folded[conv] = cached
    return cached


def _plan_for(conv, bn, fold, x_shape):
    """The inference plan for this input shape. Plans for other batch sizes (a last, smaller
    batch) share their Winograd transforms rather than compute and keep them twice. The plans
    fold the scale into what they keep (a transform, or an im2col plan's weight); a plan whose
    transform is too large to keep makes it per call from the module's own weight and the
    scale, so no folded copy of that weight exists."""
    plan = fold.plans.get(x_shape)
    if plan is None:
        if len(fold.plans) >= _MAX_PLANS:  # many input sizes: keep memory bounded
            fold.plans.clear()
            fold.transforms.clear()
        plan = conv_ops.prepare_inference(x_shape, conv.weight._data, conv.stride, conv.padding,
                                          conv.dilation, conv.groups, fold.transforms,
                                          fold.scale)
        fold.plans[x_shape] = plan
    return plan


def _fold(conv, bn):
    """The BatchNorm as (scale, shift) per output channel: ``bn(conv(x)) = conv(x, scale * W)
    + shift``; scale in float64, shift in the convolution's dtype."""
    dtype = conv.weight._data.dtype
    invstd = 1.0 / np.sqrt(bn.running_var._data.astype(np.float64) + bn.eps)
    gamma = bn.weight._data.astype(np.float64) if bn.weight is not None else 1.0
    beta = bn.bias._data.astype(np.float64) if bn.bias is not None else 0.0
    scale = gamma * invstd
    shift = beta - scale * bn.running_mean._data.astype(np.float64)
    if conv.bias is not None:
        shift = shift + scale * conv.bias._data.astype(np.float64)
    return scale, np.asarray(shift, dtype)


def fold_batch_norm(conv, bn):
    """``(weight, bias)`` of ``conv`` with the eval-mode ``bn`` after it folded in: the arrays
    the fused inference path computes with (and the ONNX export writes)."""
    scale, shift = _fold(conv, bn)
    return conv_winograd.scaled_weight(conv.weight._data, scale), shift


def _folded_weight(conv, fold):
    """The folded weight as a new array, in float64 and rounded once, a block of output
    channels at a time (``conv_winograd.scaled_weight``). Read-only: nothing may change a cached
    fold in place, and the convolution may then keep derived forms of it (its Winograd
    transform, ``conv_winograd.transformed_weight``)."""
    weight = conv_winograd.scaled_weight(conv.weight._data, fold.scale)
    weight.flags.writeable = False
    return weight
