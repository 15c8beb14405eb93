"""More activation modules: SELU, CELU, Hardswish, Hardsigmoid, Mish, LogSigmoid, Softsign,
Softmin, Softshrink, Hardshrink, Tanhshrink, Threshold, GLU, RReLU and PReLU (with its weight
parameter); thin wrappers over ``nn.functional`` with PyTorch's arguments and reprs."""
import numpy as np

from minitorch.nn import functional as F
from minitorch.nn.module import Module
from minitorch.nn.modules.activation_more import _inplace_repr
from minitorch.nn.parameter import Parameter

__all__ = ["SELU", "CELU", "Hardswish", "Hardsigmoid", "Mish", "LogSigmoid", "Softsign",
           "Softmin", "Softshrink", "Hardshrink", "Tanhshrink", "Threshold", "GLU", "RReLU",
           "PReLU"]


class _Stateless(Module):
    """An activation ``F.<_fn>(input)`` with no arguments (and no repr beyond its name)."""

    _fn = None

    def forward(self, input):
        return getattr(F, self._fn)(input)


class _Inplaceable(Module):
    """An activation ``F.<_fn>(input, inplace=...)``; ``_show_inplace``: whether torch's repr
    shows ``inplace=True`` (SELU's does, Hardswish's does not)."""

    _fn = None
    _show_inplace = False

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return getattr(F, self._fn)(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr("", self.inplace) if self._show_inplace else ""


class SELU(_Inplaceable):
    _fn, _show_inplace = "selu", True


class Hardswish(_Inplaceable):
    _fn = "hardswish"


class Hardsigmoid(_Inplaceable):
    _fn = "hardsigmoid"


class Mish(_Inplaceable):
    _fn, _show_inplace = "mish", True


class LogSigmoid(_Stateless):
    _fn = "logsigmoid"


class Softsign(_Stateless):
    _fn = "softsign"


class Tanhshrink(_Stateless):
    _fn = "tanhshrink"


class CELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(f"alpha={self.alpha}", self.inplace)


class Softmin(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softshrink(Module):
    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(f"threshold={self.threshold}, value={self.value}", self.inplace)


class GLU(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class RReLU(Module):
    """Randomized leaky ReLU: random negative slopes in U(lower, upper) in training, their mean
    in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(f"lower={self.lower}, upper={self.upper}", self.inplace)


class PReLU(Module):
    """Leaky ReLU with a learned slope: one (``num_parameters=1``) or one per channel, all
    ``init`` at first."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or np.float32)
        self.weight = Parameter(np.full((num_parameters,), init, np_dtype))

    def reset_parameters(self) -> None:
        self.weight._data[...] = self.init
        self.weight._bump_version()

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
