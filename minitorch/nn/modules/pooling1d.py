"""1-d pooling modules over (N, C, L) input: ``MaxPool1d``, ``AvgPool1d``, ``AdaptiveAvgPool1d``
(the arguments and checks are the 2-d modules' shared bases)."""
from minitorch.nn import functional as F
from minitorch.nn.module import Module
from minitorch.nn.modules.pooling import _AdaptiveAvgPoolNd, _check_positive, _MaxPoolNd

__all__ = ["MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d"]


class MaxPool1d(_MaxPoolNd):
    """Max over each window of L; ``stride`` defaults to ``kernel_size``."""

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class AvgPool1d(Module):
    """Mean over each window of L; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        _check_positive("AvgPool1d", "kernel_size", kernel_size)
        _check_positive("AvgPool1d", "stride", stride)
        _check_positive("AvgPool1d", "padding", padding, 0)
        # stored as 1-tuples, as torch's AvgPool1d does (its repr shows them)
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)
