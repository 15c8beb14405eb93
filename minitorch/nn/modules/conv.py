"""``nn.Conv2d``: 2-D convolution over NCHW input with PyTorch's arguments and initialisation."""
import math

import numpy as np

from minitorch.nn import functional as F
from minitorch.nn import init
from minitorch.nn.module import Module
from minitorch.nn.parameter import Parameter

__all__ = ["Conv2d"]


def _pair(value, name: str) -> tuple:
    """Normalise an int or a 2-sequence of ints to a 2-tuple; ValueError naming the argument."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"Conv2d: invalid {name} {value!r}: expected an int or a pair of ints")
    return tuple(int(v) for v in pair)


def _padding_2d(padding, kernel_size, stride, dilation) -> tuple:
    """Numeric padding; 'valid' is 0, 'same' keeps H and W (stride 1, symmetric padding only)."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, kernel_size)]
        if any(t % 2 for t in total):
            raise ValueError(f"Conv2d: padding='same' needs an odd effective kernel size, got "
                             f"kernel_size={kernel_size}, dilation={dilation}")
        return tuple(t // 2 for t in total)
    pad = _pair(padding, "padding")
    if min(pad) < 0:
        raise ValueError(f"Conv2d: invalid padding {padding!r}: must be >= 0")
    return pad


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the argument checks, the parameters, PyTorch's default
    initialisation and repr. A subclass gives ``_tuple`` (an int or sequence to its n-tuple)
    and ``_resolve_padding`` (the padding argument to what its forward passes on)."""

    _tuple = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None):
        super().__init__()
        self._check_channels(in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.dilation = self._tuple(dilation, "dilation")
        if min(self.kernel_size + self.stride + self.dilation) < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size {self.kernel_size}, stride "
                             f"{self.stride} and dilation {self.dilation} must all be >= 1")
        self._padding_arg = padding
        self.padding = self._resolve_padding(padding)
        self.padding_mode = padding_mode
        self._make_parameters(bias, dtype)

    def _make_parameters(self, bias, dtype):
        """weight [out, in / groups, *kernel_size] and bias [out] (or None), PyTorch's init."""
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or np.float32)
        shape = self._weight_shape()
        self.weight = Parameter(np.empty(shape, dtype=np_dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), dtype=np_dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _weight_shape(self) -> tuple:
        """[out, in / groups, *kernel_size] (the transposed convolutions swap the first two)."""
        return (self.out_channels, self.in_channels // self.groups) + tuple(self.kernel_size)

    @classmethod
    def _check_channels(cls, in_channels, out_channels, groups, padding_mode="zeros"):
        if padding_mode != "zeros":
            raise ValueError(f"{cls.__name__}: padding_mode {padding_mode!r} is not supported "
                             f"(only 'zeros')")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("groups", groups)):
            if not isinstance(value, (int, np.integer)) or value < (1 if name == "groups" else 0):
                raise ValueError(f"{cls.__name__}: invalid {name} {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{cls.__name__}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if isinstance(self._padding_arg, str):
            text += f", padding={self._padding_arg}"  # unquoted, as torch prints it
        elif any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """Applies a 2-D convolution; weight is [out_channels, in_channels // groups, kH, kW]."""

    _tuple = staticmethod(_pair)

    def _resolve_padding(self, padding):
        return _padding_2d(padding, self.kernel_size, self.stride, self.dilation)

    def forward(self, input):
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d: expected 4-D input (N, C, H, W) with "
                             f"{self.in_channels} channels, got shape {tuple(input.shape)}")
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
