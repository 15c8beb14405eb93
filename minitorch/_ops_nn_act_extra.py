"""More ``nn.functional`` activations: selu, celu, hardswish, hardsigmoid, mish, logsigmoid,
softsign, softshrink, hardshrink, tanhshrink, threshold, glu, rrelu, prelu (and the in-place
forms torch has: ``F.selu_``, ``F.celu_``, ``F.threshold_``, ``F.rrelu_``, ``inplace=True``),
each declared once as an ``F.`` entry (``_registry``).

The pointwise ones call one Function of ``ops.activation_extra``; tanhshrink, glu, rrelu and
prelu are compositions of differentiable ops, as in torch (their gradients come from those).
"""
import numbers

import numpy as np

from . import random as _random
from ._ops_nn_act import _maybe_inplace, leaky_relu
from ._registry import declare
from .ops import activation_extra as A
from .ops import prelu as PR

__all__ = ["selu", "selu_", "celu", "celu_", "hardswish", "hardsigmoid", "mish", "logsigmoid",
           "softsign", "softshrink", "hardshrink", "tanhshrink", "threshold", "threshold_",
           "glu", "rrelu", "rrelu_", "prelu"]

_F = dict(method=False, function=False, functional=True, out=False)


@declare(**_F)
def selu(input, inplace=False):
    """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with torch's alpha and scale."""
    return _maybe_inplace(input, inplace, "selu_", lambda: A.SELU.apply(input))


@declare(**_F)
def selu_(input):
    return selu(input, inplace=True)


@declare(**_F)
def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha must not be 0")
    return _maybe_inplace(input, inplace, "celu_",
                          lambda: A.CELU.apply(input, alpha=float(alpha)))


@declare(**_F)
def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


@declare(**_F)
def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _maybe_inplace(input, inplace, "hardswish_", lambda: A.Hardswish.apply(input))


@declare(**_F)
def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _maybe_inplace(input, inplace, "hardsigmoid_", lambda: A.Hardsigmoid.apply(input))


@declare(**_F)
def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _maybe_inplace(input, inplace, "mish_", lambda: A.Mish.apply(input))


@declare(**_F)
def logsigmoid(input):
    """``log(sigmoid(x))``, computed as ``-softplus(-x)`` (no overflow)."""
    return A.LogSigmoid.apply(input)


@declare(**_F)
def softsign(input):
    """``x / (|x| + 1)``, composed as torch's: its node is the division's, and an infinite
    gradient meets the same ``inf - inf`` in the division's backward."""
    return input / (input.abs() + 1)


def _lambd(lambd, fn):
    if not isinstance(lambd, numbers.Real) or lambd < 0:
        raise RuntimeError(f"{fn}: lambda must be greater or equal to 0, but found to be "
                           f"{lambd}.")
    return float(lambd)


@declare(**_F)
def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    return A.Softshrink.apply(input, lambd=_lambd(lambd, "softshrink"))


@declare(**_F)
def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    return A.Hardshrink.apply(input, lambd=float(lambd))


@declare(**_F)
def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


@declare(**_F)
def threshold(input, threshold, value, inplace=False):  # noqa: A002 - torch's names
    """``x`` where ``x > threshold``, ``value`` elsewhere."""
    return _maybe_inplace(input, inplace, "threshold_",
                          lambda: A.Threshold.apply(input, threshold=threshold, value=value))


@declare(**_F)
def threshold_(input, threshold, value):  # noqa: A002
    return globals()["threshold"](input, threshold, value, inplace=True)


@declare(**_F)
def glu(input, dim=-1):
    """``a * sigmoid(b)`` of the two halves ``a, b`` of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim if -input.ndim <= dim < input.ndim else None
    if d is None:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.narrow(d, 0, n // 2), input.narrow(d, n // 2, n // 2)
    return a * b.sigmoid()


@declare(**_F)
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with slope ``(lower + upper) / 2`` in eval, and in training a slope drawn
    from U(lower, upper) for each non-positive element (minitorch's generator)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"rrelu: not implemented for dtype {input.dtype}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    dt = input._data.dtype
    slopes = _random.default_generator().random(tuple(input.shape), dtype=np.float64)
    slopes = (lower + (upper - lower) * slopes).astype(dt)
    noise = input._new(np.where(input._data <= 0, slopes, dt.type(1)))
    return input.mul_(noise) if inplace else input * noise


@declare(**_F)
def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


@declare(method=False, function=True, functional=True, out=False)
def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 element or one per
    channel (dim 1)."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                           f"Found parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}.")
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} and "
                           f"{weight.dtype}")
    if weight.numel() == 1:
        w = weight.reshape(())
    else:
        w = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return PR.PReLU.apply(input, w)
