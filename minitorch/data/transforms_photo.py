"""Continuous photo augmentations on PIL images, with torchvision's names and semantics.

``RandomResizedCrop``, ``ColorJitter`` and ``RandomRotation`` follow torchvision's PIL path: the
same parameter distributions drawn in the same order (from the ``np.random.Generator`` given,
not torch's global generator), the same PIL operations to apply them. Their outcomes are
continuous (a scale, a factor, an angle), so they set ``continuous``: the frozen-prefix cache
cannot enumerate their views and is switched off, saying why (see ``train/feature_cache.py``).
"""
import math
import numbers

import numpy as np

from .errors import DataError
from .transforms import Transform, _need_rng, _pair

__all__ = ["RandomResizedCrop", "ColorJitter", "RandomRotation"]


def _pil(x, name):
    if not (hasattr(x, "resize") and hasattr(x, "mode")):
        raise DataError(f"{name} takes a PIL image (put it before ToTensor), got "
                        f"{type(x).__name__}")
    return x


def _range(value, name, center=1.0, bound=(0.0, float("inf"))):
    """torchvision's jitter range: a number v means [center - v, center + v] (clipped at the
    bound's low end), a pair (lo, hi) itself; None when the jitter is off."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        if value < 0:
            raise DataError(f"ColorJitter: {name} {value!r} must be non-negative")
        lo, hi = center - float(value), center + float(value)
        lo = max(lo, bound[0]) if center == 1.0 else lo
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = float(value[0]), float(value[1])
    else:
        raise DataError(f"ColorJitter: {name} should be a number or a pair, got {value!r}")
    if not bound[0] <= lo <= hi <= bound[1]:
        raise DataError(f"ColorJitter: {name} values should be between {bound}, got "
                        f"[{lo}, {hi}]")
    return None if lo == hi == center else (lo, hi)


class RandomResizedCrop(Transform):
    """A crop of random area fraction ``scale`` and aspect ratio ``ratio`` (log-uniform),
    resized to ``size`` with PIL's bilinear filter; ten tries, then the central crop."""

    is_random = True
    continuous = "RandomResizedCrop draws a continuous scale and aspect ratio"

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0)):
        self.size = _pair(size, "RandomResizedCrop")
        self.scale, self.ratio = tuple(float(s) for s in scale), tuple(float(r) for r in ratio)
        if not (0 < self.scale[0] <= self.scale[1]) or not (0 < self.ratio[0] <= self.ratio[1]):
            raise DataError(f"RandomResizedCrop: invalid scale {scale!r} or ratio {ratio!r}: "
                            f"each must be an increasing pair of positive numbers")

    def out_hw(self, hw):
        return self.size

    def draw(self, rng, hw):
        """(top, left, height, width) of the crop, as torchvision's ``get_params``."""
        rng = _need_rng(rng, "RandomResizedCrop")
        height, width = hw
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(self.scale[0], self.scale[1])
            aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), \
                    h, w
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, x, rng=None):
        from PIL import Image
        img = _pil(x, "RandomResizedCrop")
        top, left, h, w = self.draw(rng, (img.height, img.width))
        return img.crop((left, top, left + w, top + h)).resize(self.size[::-1], Image.BILINEAR)


def _adjust_hue(img, factor):
    """Shift the hue of an RGB PIL image by ``factor`` of a turn (uint8 wrap-around, as PIL's
    HSV and torchvision's adjust_hue)."""
    from PIL import Image
    h, s, v = img.convert("HSV").split()
    hue = np.asarray(h, dtype=np.uint8)
    with np.errstate(over="ignore"):
        hue = hue + np.uint8(np.int64(factor * 255) % 256)
    return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert(img.mode)


class ColorJitter(Transform):
    """Brightness, contrast, saturation and hue factors drawn uniformly from their ranges and
    applied in a random order (a permutation of the four, drawn first), as torchvision."""

    is_random = True
    continuous = "ColorJitter draws continuous brightness/contrast/saturation/hue factors"

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _range(brightness, "brightness")
        self.contrast = _range(contrast, "contrast")
        self.saturation = _range(saturation, "saturation")
        self.hue = _range(hue, "hue", center=0.0, bound=(-0.5, 0.5))

    def draw(self, rng, hw):
        """(order of the four adjustments, their factors: None where off)."""
        rng = _need_rng(rng, "ColorJitter")
        order = tuple(int(i) for i in rng.permutation(4))
        factors = tuple(None if r is None else float(rng.uniform(r[0], r[1]))
                        for r in (self.brightness, self.contrast, self.saturation, self.hue))
        return order, factors

    def __call__(self, x, rng=None):
        from PIL import ImageEnhance
        img = _pil(x, "ColorJitter")
        order, factors = self.draw(rng, (img.height, img.width))
        enhancers = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)
        for i in order:
            if factors[i] is None:
                continue
            img = _adjust_hue(img, factors[i]) if i == 3 else \
                enhancers[i](img).enhance(factors[i])
        return img


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means [-d, d]),
    counter-clockwise about the centre, nearest-neighbour, corners filled with ``fill``."""

    is_random = True
    continuous = "RandomRotation draws a continuous angle"

    def __init__(self, degrees, expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Number) and not isinstance(degrees, bool):
            if degrees < 0:
                raise DataError(f"RandomRotation: degrees {degrees!r} must be non-negative")
            degrees = (-float(degrees), float(degrees))
        if not (isinstance(degrees, (tuple, list)) and len(degrees) == 2):
            raise DataError(f"RandomRotation: degrees should be a number or a pair, got "
                            f"{degrees!r}")
        self.degrees = (float(degrees[0]), float(degrees[1]))
        self.expand, self.center, self.fill = bool(expand), center, fill

    def draw(self, rng, hw):
        return float(_need_rng(rng, "RandomRotation").uniform(*self.degrees))

    def out_hw(self, hw):
        if not self.expand:
            return tuple(hw)
        raise DataError("RandomRotation(expand=True): the output size depends on the angle")

    def __call__(self, x, rng=None):
        from PIL import Image
        img = _pil(x, "RandomRotation")
        angle = self.draw(rng, (img.height, img.width))
        fill = self.fill
        if isinstance(fill, numbers.Number) and len(img.getbands()) > 1:
            fill = tuple([int(fill)] * len(img.getbands()))
        return img.rotate(angle, Image.NEAREST, self.expand, self.center, fillcolor=fill)
