"""More pointwise activations: SELU, CELU, Hardswish, Hardsigmoid, Mish, LogSigmoid,
Softshrink, Hardshrink and Threshold (numpy, one expression each way, on ``activation_more``'s
``_Pointwise``: the forward saves its input only, the backward recomputes the derivative;
``_d2f``, the second derivative, serves create_graph=True).

The derivatives at the kinks are PyTorch's: SELU/CELU take the exponential branch at 0,
Hardswish's gradient is 0 at -3 and 1 at 3, Hardsigmoid passes no gradient at
either end, the shrinks none inside [-lambd, lambd] ends included, Threshold none at or below
the threshold.
"""
import numpy as np

from ..autograd.function import _once_differentiable
from .activation_more import Derivative, Softplus, _Masked, _Pointwise, _sigmoid, negative_mask

__all__ = ["SELU", "CELU", "Hardswish", "Hardsigmoid", "Mish", "LogSigmoid",
           "Softshrink", "Hardshrink", "Threshold", "SELU_ALPHA", "SELU_SCALE"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _c(x, value):
    """``value`` as a scalar of ``x``'s dtype (so float32 stays float32)."""
    return x.dtype.type(value)


class SELU(_Pointwise):
    node_name = "EluBackward0"

    @staticmethod
    def _f(x):
        neg = _c(x, SELU_ALPHA) * np.expm1(np.minimum(x, 0))
        return _c(x, SELU_SCALE) * np.where(x > 0, x, neg)

    @staticmethod
    def _df(x):
        return np.where(x <= 0, _c(x, SELU_SCALE * SELU_ALPHA) * np.exp(np.minimum(x, 0)),
                        _c(x, SELU_SCALE))

    @staticmethod
    def _d2f(x):  # (x < 0: at 0 torch's second derivative is 0, as ELU's)
        return np.where(x < 0, _c(x, SELU_SCALE * SELU_ALPHA) * np.exp(np.minimum(x, 0)),
                        _c(x, 0))

    @staticmethod
    def _d2f_graph(ctx, x):
        return x.clamp(max=0).exp() * (SELU_SCALE * SELU_ALPHA) * negative_mask(ctx, x)


class CELU(_Pointwise):
    node_name = "EluBackward0"

    @staticmethod
    def _f(x, alpha):
        neg = _c(x, alpha) * np.expm1(np.minimum(x, 0) / _c(x, alpha))
        return np.where(x > 0, x, neg)

    @staticmethod
    def _df(x, alpha):
        return np.where(x <= 0, np.exp(np.minimum(x, 0) / _c(x, alpha)), _c(x, 1))

    @staticmethod
    def _d2f(x, alpha):
        return np.where(x < 0, np.exp(np.minimum(x, 0) / _c(x, alpha)) / _c(x, alpha),
                        _c(x, 0))

    @staticmethod
    def _d2f_graph(ctx, x, alpha):
        return (x.clamp(max=0) / alpha).exp() / alpha * negative_mask(ctx, x)


class Hardswish(_Masked):
    node_name = "HardswishBackward0"

    @staticmethod
    def _f(x):
        return x * np.clip(x + _c(x, 3), 0, 6) / _c(x, 6)

    @staticmethod
    def _dead(x):
        return x <= -3

    @staticmethod
    def _df(x):
        return np.where(x < 3, x / _c(x, 3) + _c(x, 0.5), _c(x, 1))

    @staticmethod
    def _d2f(x):
        return np.where((x > -3) & (x < 3), _c(x, 1 / 3), _c(x, 0))

    @staticmethod
    def _d2f_graph(ctx, x):  # piecewise constant: no gradient through x, as torch's
        return ctx.constant(Hardswish._d2f(x._data))


class Hardsigmoid(_Masked):
    node_name = "HardsigmoidBackward0"

    @staticmethod
    def _f(x):
        return np.clip(x + _c(x, 3), 0, 6) / _c(x, 6)

    @staticmethod
    def _dead(x):
        return ~((x > -3) & (x < 3))

    @staticmethod
    def _df(x):
        return _c(x, 1 / 6)

    @staticmethod
    def backward_graph(ctx, grad):  # torch has no derivative of its gradient: its error
        return _once_differentiable(ctx, (grad,), ctx._make, message=(
            "derivative for aten::hardsigmoid_backward is not implemented"))


class Mish(_Pointwise):
    node_name = "MishBackward0"

    @staticmethod
    def _f(x):
        return x * np.tanh(np.logaddexp(x, _c(x, 0)))

    @staticmethod
    def _df(x):
        t = np.tanh(np.logaddexp(x, _c(x, 0)))
        return t + x * _sigmoid(x) * (1 - t * t)

    @staticmethod
    def _d2f(x):
        t, s = np.tanh(np.logaddexp(x, _c(x, 0))), _sigmoid(x)
        return (1 - t * t) * s * (2 + x * (1 - s - 2 * t * s))

    @staticmethod
    def _d2f_graph(ctx, x):
        t, s = Softplus.apply(x, beta=1, threshold=20).tanh(), x.sigmoid()
        return (1 - t * t) * s * (2 + x * (1 - s - 2 * t * s))


class LogSigmoid(_Pointwise):
    node_name = "LogSigmoidBackward0"

    @staticmethod
    def _f(x):
        return -np.logaddexp(-x, _c(x, 0))

    @staticmethod
    def _df(x):
        return _sigmoid(-x)

    @staticmethod
    def _d2f(x):
        s = _sigmoid(x)
        return -s * (1 - s)

    @staticmethod
    def _d2f_graph(ctx, x):
        s = x.sigmoid()
        return s * (s - 1)


class _Shrink(_Masked):
    """Softshrink and Hardshrink: no gradient on ``[-lambd, lambd]`` (ends included), 1 outside."""

    @staticmethod
    def _dead(x, lambd):
        return (x >= -lambd) & (x <= lambd)

    @staticmethod
    def _df(x, lambd):
        return x.dtype.type(1)


class Softshrink(_Shrink):
    node_name = "SoftshrinkBackward0"

    @staticmethod
    def _f(x, lambd):
        lam = _c(x, lambd)
        return np.where(x > lam, x - lam, np.where(x < -lam, x + lam, _c(x, 0)))


class Hardshrink(_Shrink):
    node_name = "HardshrinkBackward0"

    @staticmethod
    def _f(x, lambd):
        return np.where((x >= -lambd) & (x <= lambd), _c(x, 0), x)


class Threshold(_Masked):
    node_name = "ThresholdBackward0"
    integers = True

    @staticmethod
    def _f(x, threshold, value):
        return np.where(x > threshold, x, x.dtype.type(value))

    @staticmethod
    def _dead(x, threshold, value):
        return x <= threshold

    @staticmethod
    def _df(x, threshold, value):
        return x.dtype.type(1)
