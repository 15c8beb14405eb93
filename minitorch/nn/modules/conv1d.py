"""``nn.Conv1d``: 1-d convolution over (N, C, L) input, PyTorch's arguments, repr and init."""
import numbers

from minitorch.nn import functional as F
from minitorch.nn.module import Module
from minitorch.nn.modules.conv import Conv2d

__all__ = ["Conv1d"]


def _single(value, name):
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(v, numbers.Integral):
        raise ValueError(f"Conv1d: invalid {name} {value!r}: expected an int or a 1-tuple")
    return (int(v),)


class Conv1d(Module):
    """Applies a 1-d convolution; weight is [out_channels, in_channels // groups, kernel_size]."""

    # the channel checks, the parameters and PyTorch's default initialisation are Conv2d's
    _check_channels = classmethod(Conv2d._check_channels.__func__)
    _make_parameters = Conv2d._make_parameters
    reset_parameters = Conv2d.reset_parameters

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None):
        super().__init__()
        self._check_channels(in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _single(kernel_size, "kernel_size")
        self.stride = _single(stride, "stride")
        self.dilation = _single(dilation, "dilation")
        if min(self.kernel_size + self.stride + self.dilation) < 1:
            raise ValueError(f"Conv1d: kernel_size {self.kernel_size}, stride {self.stride} and "
                             f"dilation {self.dilation} must all be >= 1")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv1d: invalid padding {padding!r}: 'valid', 'same' or ints")
            self.padding = padding
        else:
            self.padding = _single(padding, "padding")
            if self.padding[0] < 0:
                raise ValueError(f"Conv1d: invalid padding {padding!r}: must be >= 0")
        self.padding_mode = padding_mode
        self._make_parameters(bias, dtype)

    def forward(self, input):
        if input.ndim not in (2, 3) or input.shape[-2] != self.in_channels:
            raise ValueError(f"Conv1d: expected 2-D (C, L) or 3-D (N, C, L) input with "
                             f"{self.in_channels} channels, got shape {tuple(input.shape)}")
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride[0], padding,
                        self.dilation[0], self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,):
            text += f", padding={self.padding}"  # (a string unquoted, as torch prints it)
        if self.dilation != (1,):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
