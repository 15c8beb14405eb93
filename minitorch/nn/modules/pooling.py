"""Pooling modules: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` over NCHW input."""
from minitorch.nn import functional as F
from minitorch.nn.module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _check_input(module: str, input) -> None:
    if input.ndim not in (3, 4):
        raise ValueError(f"{module}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                         f"got shape {tuple(input.shape)}")


def _check_positive(module: str, name: str, value, minimum: int = 1) -> None:
    values = value if isinstance(value, (tuple, list)) else (value,)
    if any(v is not None and v < minimum for v in values):
        raise ValueError(f"{module}: invalid {name} {value!r}: must be >= {minimum}")


class _MaxPoolNd(Module):
    """The arguments, checks and repr of MaxPool1d/MaxPool2d; ``stride`` defaults to
    ``kernel_size``. Subclasses give ``forward``."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        name = type(self).__name__
        _check_positive(name, "kernel_size", kernel_size)
        _check_positive(name, "stride", stride)
        _check_positive(name, "padding", padding, 0)
        _check_positive(name, "dilation", dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over each kernel window; ``stride`` defaults to ``kernel_size``."""

    def forward(self, input):
        _check_input("MaxPool2d", input)
        extra = {"return_indices": True} if self.return_indices else {}
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, **extra)


class AvgPool2d(Module):
    """Mean over each kernel window; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        _check_positive("AvgPool2d", "kernel_size", kernel_size)
        _check_positive("AvgPool2d", "stride", stride)
        _check_positive("AvgPool2d", "padding", padding, 0)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        _check_input("AvgPool2d", input)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        _check_positive(type(self).__name__, "output_size", output_size)
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output size (``(1, 1)`` is global average pooling)."""

    def forward(self, input):
        _check_input("AdaptiveAvgPool2d", input)
        return F.adaptive_avg_pool2d(input, self.output_size)
