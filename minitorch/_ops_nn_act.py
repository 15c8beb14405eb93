"""``nn.functional`` activations beyond relu: gelu, leaky_relu, elu, softplus, silu, hardtanh,
relu6 (and the in-place forms), each declared once as an ``F.`` entry (``_registry``).

Each checks its arguments and calls one Function from ``minitorch.ops.activation_more``; the
``inplace=True`` forms compute the op out of place and hand the result to the core's in-place
protocol (storage written, version bumped, history rebased), as ``relu_`` does.
"""
import numbers

from ._registry import declare
from .ops import activation_more as A

__all__ = ["gelu", "leaky_relu", "leaky_relu_", "elu", "elu_", "softplus", "silu", "hardtanh",
           "hardtanh_", "relu6"]


def _maybe_inplace(input, inplace, name, compute):
    return input._inplace(name, compute) if inplace else compute()


@declare(method=False, function=False, functional=True, out=False)
def gelu(input, approximate="none"):
    """``x * Phi(x)``; ``approximate='tanh'`` is PyTorch's tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return A.GELU.apply(input, tanh=approximate == "tanh")


@declare(method=False, function=False, functional=True, out=False)
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    if not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    op = A.LeakyReLUInplace if inplace else A.LeakyReLU
    return _maybe_inplace(input, inplace, "leaky_relu_",
                          lambda: op.apply(input, negative_slope=float(negative_slope)))


@declare(method=False, function=False, functional=True, out=False)
def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


@declare(method=False, function=False, functional=True, out=False)
def elu(input, alpha=1.0, inplace=False):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    op = A.ELUInplace if inplace else A.ELU
    return _maybe_inplace(input, inplace, "elu_", lambda: op.apply(input, alpha=float(alpha)))


@declare(method=False, function=False, functional=True, out=False)
def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


@declare(method=False, function=False, functional=True, out=False)
def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    return A.Softplus.apply(input, beta=float(beta), threshold=float(threshold))


@declare(method=False, function=False, functional=True, out=False)
def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish)."""
    return _maybe_inplace(input, inplace, "silu_", lambda: A.SiLU.apply(input))


@declare(method=False, function=False, functional=True, out=False)
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(x, min_val, max_val)``; no gradient at or beyond either bound."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _maybe_inplace(input, inplace, "hardtanh_",
                          lambda: A.Hardtanh.apply(input, min_val=min_val, max_val=max_val))


@declare(method=False, function=False, functional=True, out=False)
def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


@declare(method=False, function=False, functional=True, out=False)
def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)
