"""``nn.AdaptiveMaxPool1d`` / ``nn.AdaptiveMaxPool2d`` (with ``return_indices``)."""
from minitorch.nn import functional as F
from minitorch.nn.module import Module

__all__ = ["AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class AdaptiveMaxPool2d(Module):
    _fn = "adaptive_max_pool2d"

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return getattr(F, self._fn)(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    _fn = "adaptive_max_pool1d"
