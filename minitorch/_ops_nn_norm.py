"""``nn.functional`` normalisations beyond batch/layer norm: group_norm, instance_norm,
rms_norm, local_response_norm, each declared once (``_registry``).

group_norm and instance_norm are batch normalisation of a reshaped input, as in torch: the
(N, C, *) input seen as (1, N * G, -1) (one "channel" per sample and group) runs through
``ops.norm.BatchNorm`` (the fused numba statistics, apply and backward), then the per-channel
affine. rms_norm and local_response_norm are torch's own compositions of differentiable ops.
"""
import numbers

import numpy as np

from ._ops_shape import cat
from ._registry import declare
from .ops import norm as N
from .ops.adjoint import FusedBackward

__all__ = ["group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _per_channel(t, ndim):
    """A (C,) tensor shaped to broadcast along dim 1 of an ``ndim``-d input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(out, weight, bias):
    if weight is not None:
        out = out * _per_channel(weight, out.ndim)
    if bias is not None:
        out = out + _per_channel(bias, out.ndim)
    return out


def _check_affine(fn, input, C, *tensors):
    for name, t in zip(("weight", "bias"), tensors):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"{fn}: expected {name} of shape [{C}] for input of shape "
                               f"{list(input.shape)}, got {list(t.shape)}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}: expected a floating-point input, got {input.dtype}")


@declare(method=False, function=False, functional=True, out=False)
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each of ``num_groups`` channel groups of each sample of an (N, C, *) input
    (biased variance), then scale and shift per channel."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an (N, C, *) input, got shape "
                           f"{list(input.shape)}")
    Nb, C = input.shape[:2]
    if not isinstance(num_groups, numbers.Integral) or num_groups < 1 or C % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible "
                           f"by num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _check_affine("group_norm", input, C, weight, bias)
    x = input.reshape(1, Nb * int(num_groups), -1)
    out = N.BatchNorm.apply(x, None, None, running_mean=None, running_var=None, training=True,
                            momentum=0.0, eps=float(eps))
    out = _affine(out.reshape(tuple(input.shape)), weight, None)
    if weight is not None and (weight.requires_grad or input.requires_grad):
        # torch's group norm backward takes (grad, input, weight): the input's and weight's
        # gradients require grad when any of those does (create_graph), the bias's does not
        out = FusedBackward.apply(out, input, weight, node_name="NativeGroupNormBackward0")
    return _affine(out, None, bias)


@declare(method=False, function=False, functional=True, out=False)
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample of an (N, C, *) input over its spatial dims;
    with running statistics, update them (the mean of the samples' updates, as torch) or, with
    ``use_input_stats=False``, normalise by them."""
    if input.ndim < 3 and use_input_stats:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    if use_input_stats and int(np.prod(input.shape[2:])) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    Nb, C = input.shape[:2]
    _check_affine("instance_norm", input, C, weight, bias)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (C,):
            raise RuntimeError(f"instance_norm: expected {name} of shape [{C}], got "
                               f"{list(t.shape)}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("instance_norm: Expected running_mean and running_var to be "
                           "defined when use_input_stats is false")
    # one BatchNorm "channel" per (sample, channel): the running statistics repeated per sample
    stats = [None if t is None else np.tile(t._data, Nb) for t in (running_mean, running_var)]
    x = input.reshape(1, Nb * C, -1)
    out = N.BatchNorm.apply(x, None, None, running_mean=stats[0], running_var=stats[1],
                            training=bool(use_input_stats), momentum=float(momentum or 0.0),
                            eps=float(eps))
    if use_input_stats:
        for t, s in zip((running_mean, running_var), stats):
            if t is not None:
                t._data[...] = s.reshape(Nb, C).mean(0)
                t._bump_version()
    return _affine(out.reshape(tuple(input.shape)), weight, bias)


@declare(method=False, function=True, functional=True, out=False)
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dims;
    ``eps=None`` is the dtype's machine epsilon, as torch."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if not shape or k > input.ndim or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"rms_norm: Given normalized_shape={list(shape)}, expected input "
                           f"with shape [*{', '.join(map(str, shape))}], but got input of "
                           f"size{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: expected weight of shape {list(shape)}, got "
                           f"{list(weight.shape)}")
    dt = input._data.dtype
    if dt.kind != "f":
        raise RuntimeError(f"rms_norm: expected a floating-point input, got {input.dtype}")
    eps = float(np.finfo(dt).eps) if eps is None else float(eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


@declare(method=False, function=False, functional=True, out=False)
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``x / (k + alpha * mean of x^2 over ``size`` neighbouring channels) ** beta`` (the
    window zero-padded at the channel ends, divided by ``size`` as torch's average pool)."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.numel() == 0:
        return input
    C = input.shape[1]
    sq = input * input
    rest = tuple(input.shape[2:])
    before, after = size // 2, (size - 1) // 2
    parts = [sq]
    if before:
        parts.insert(0, sq._new(np.zeros((input.shape[0], before) + rest, sq._data.dtype)))
    if after:
        parts.append(sq._new(np.zeros((input.shape[0], after) + rest, sq._data.dtype)))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    total = padded[:, 0:C]
    for i in range(1, size):  # a loop over the window's taps (a handful), not over elements
        total = total + padded[:, i:i + C]
    div = (total * (float(alpha) / size) + float(k)) ** float(beta)
    return input / div
