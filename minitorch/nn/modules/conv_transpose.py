"""``nn.ConvTranspose1d`` / ``nn.ConvTranspose2d``: PyTorch's arguments, parameter shapes
(weight [in_channels, out_channels / groups, *kernel_size]), default init, repr and
``forward(input, output_size=None)``."""
import numbers

from minitorch.nn import functional as F
from minitorch.nn.modules.conv import _ConvNd

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolutions share; a subclass gives ``_n`` (spatial dims) and
    ``_functional``."""

    _n = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        output_padding = self._ntuple(output_padding, "output_padding")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)
        self.output_padding = output_padding

    @classmethod
    def _ntuple(cls, value, name):
        values = (value,) * cls._n if isinstance(value, numbers.Integral) else tuple(value)
        if len(values) == 1:
            values = values * cls._n
        if len(values) != cls._n or not all(isinstance(v, numbers.Integral) for v in values):
            raise ValueError(f"{cls.__name__}: invalid {name} {value!r}: expected an int or "
                             f"{cls._n} ints")
        return tuple(int(v) for v in values)

    def _tuple(self, value, name):
        return self._ntuple(value, name)

    def _resolve_padding(self, padding):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding={padding!r} is not supported "
                             f"(an int or {self._n} ints)")
        pad = self._ntuple(padding, "padding")
        if min(pad) < 0:
            raise ValueError(f"{type(self).__name__}: invalid padding {padding!r}: must be >= 0")
        return pad

    def _weight_shape(self) -> tuple:
        return (self.in_channels, self.out_channels // self.groups) + tuple(self.kernel_size)

    def _output_padding(self, input, output_size):
        """``output_padding``, or what makes the output ``output_size`` (torch's rule: any
        size from the smallest output to ``stride - 1`` more)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        size = list(output_size)
        if len(size) in (n + 1, n + 2):  # with the leading (N, C) / (C,) dims, as torch allows
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must "
                             f"have {n} or {n + 2} elements (got {len(list(output_size))})")
        spatial = list(input.shape[-n:])
        lo = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
              + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        hi = [lo[d] + self.stride[d] - 1 for d in range(n)]
        if any(not lo[d] <= size[d] <= hi[d] for d in range(n)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from "
                             f"{lo} to {hi} (for an input of {tuple(spatial)})")
        return tuple(int(size[d]) - lo[d] for d in range(n))

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if any(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text

    def forward(self, input, output_size=None):
        if input.ndim not in (self._n + 1, self._n + 2) or \
                input.shape[-self._n - 1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}: expected a {self._n + 1}-d or "
                             f"{self._n + 2}-d input with {self.in_channels} channels, got "
                             f"shape {tuple(input.shape)}")
        output_padding = self._output_padding(input, output_size)
        fn = F.conv_transpose2d if self._n == 2 else F.conv_transpose1d
        return fn(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                  self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Applies a 2-d transposed convolution (the gradient of Conv2d with respect to its input)
    over (N, C, H, W) or (C, H, W) input."""

    _n = 2


class ConvTranspose1d(_ConvTransposeNd):
    """Applies a 1-d transposed convolution over (N, C, L) or (C, L) input."""

    _n = 1
