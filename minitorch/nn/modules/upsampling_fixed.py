"""``nn.UpsamplingNearest2d`` and ``nn.UpsamplingBilinear2d`` (``align_corners=True``): the
fixed-mode ``nn.Upsample``s torch keeps for old programs."""
from minitorch.nn.modules.upsampling import Upsample

__all__ = ["UpsamplingNearest2d", "UpsamplingBilinear2d"]


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
