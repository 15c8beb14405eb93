"""``nn.Conv1d``: 1-d convolution over (N, C, L) input, PyTorch's arguments, repr and init."""
import numbers

from minitorch.nn import functional as F
from minitorch.nn.modules.conv import _ConvNd

__all__ = ["Conv1d"]


def _single(value, name):
    v = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(v, numbers.Integral):
        raise ValueError(f"Conv1d: invalid {name} {value!r}: expected an int or a 1-tuple")
    return (int(v),)


class Conv1d(_ConvNd):
    """Applies a 1-d convolution; weight is [out_channels, in_channels // groups, kernel_size]."""

    _tuple = staticmethod(_single)

    def _resolve_padding(self, padding):
        """'valid' and 'same' stay strings (F.conv1d resolves them), numbers a 1-tuple."""
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv1d: invalid padding {padding!r}: 'valid', 'same' or ints")
            return padding
        pad = _single(padding, "padding")
        if pad[0] < 0:
            raise ValueError(f"Conv1d: invalid padding {padding!r}: must be >= 0")
        return pad

    def forward(self, input):
        if input.ndim not in (2, 3) or input.shape[-2] != self.in_channels:
            raise ValueError(f"Conv1d: expected 2-D (C, L) or 3-D (N, C, L) input with "
                             f"{self.in_channels} channels, got shape {tuple(input.shape)}")
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride[0], padding,
                        self.dilation[0], self.groups)
