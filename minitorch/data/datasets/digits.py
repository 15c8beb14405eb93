"""The digits dataset: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download).

Images are scaled from 0..16 to [0, 1], resized bilinearly to ``image_size``, replicated to
``channels`` channels (3 by default, to feed ImageNet-style networks) and normalised.
"""
import functools
import gzip
import importlib.util
import os

import numpy as np

from ..errors import DataError
from ..transforms import resize_bilinear
from .base import InMemoryImageDataset, select_classes

__all__ = ["Digits", "DIGITS_MEAN", "DIGITS_STD"]

# Pixel mean and std of all 1797 digits scaled to [0, 1] (the default normalisation).
DIGITS_MEAN = 0.3053
DIGITS_STD = 0.3760


def _bundled_csv():
    """The path of scikit-learn's bundled digits.csv.gz, found without importing sklearn."""
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            return path
    return None


@functools.lru_cache(maxsize=1)
def _load_raw():
    """(images (1797, 8, 8) float32 in [0, 1], labels int64), read once per process.

    Reads the CSV directly: importing sklearn.datasets costs over a second of start-up, the
    file itself a tenth of that. Falls back to ``load_digits`` if the file has moved.
    """
    path = _bundled_csv()
    if path is not None:
        with gzip.open(path) as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float32)
        images, labels = table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    else:
        from sklearn.datasets import load_digits
        bunch = load_digits()
        images, labels = bunch.images.astype(np.float32), bunch.target.astype(np.int64)
    images = images / np.float32(16.0)
    images.flags.writeable = False     # shared by every Digits instance of this process
    return images, labels


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
