"""The digits dataset: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download).

Images are scaled from 0..16 to [0, 1], resized bilinearly to ``image_size``, replicated to
``channels`` channels (3 by default, to feed ImageNet-style networks) and normalised.
"""
import numpy as np

from ..errors import DataError
from ..transforms import resize_bilinear
from .base import InMemoryImageDataset, select_classes

__all__ = ["Digits", "DIGITS_MEAN", "DIGITS_STD"]

# Pixel mean and std of all 1797 digits scaled to [0, 1] (the default normalisation).
DIGITS_MEAN = 0.3053
DIGITS_STD = 0.3760


def _load_raw():
    from sklearn.datasets import load_digits
    bunch = load_digits()
    return bunch.images.astype(np.float32) / np.float32(16.0), bunch.target.astype(np.int64)


class Digits(InMemoryImageDataset):
    """Digits ``classes`` (labels remapped to 0..k-1 in that order; None keeps 0..9)."""

    def __init__(self, classes=None, image_size=32, mean=None, std=None, augment=None,
                 channels=3):
        for name, value in (("image_size", image_size), ("channels", channels)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise DataError(f"digits: invalid {name} {value!r}: must be an integer >= 1")
        images, labels = _load_raw()
        keep, labels, classes = select_classes(labels, _as_digits(classes), list(range(10)),
                                               "digits")
        images = images[keep][:, None]
        if image_size != 8:
            images = resize_bilinear(images, (image_size, image_size))
        images = np.repeat(images, channels, axis=1)
        super().__init__(images, labels[keep], [str(c) for c in classes],
                         DIGITS_MEAN if mean is None else mean,
                         DIGITS_STD if std is None else std, augment)
        self.digits = classes


def _as_digits(classes):
    """Class values as ints (YAML may give "5"); anything else is reported by name."""
    if classes is None:
        return None
    return [int(c) if isinstance(c, str) and c.strip().isdigit() else c for c in classes]
