"""A dataset from one ``.npz`` file holding images ``x`` and integer labels ``y``.

``x`` is (N, C, H, W) or (N, H, W, C) (told apart by where a 1-, 3- or 4-sized channel axis sits),
or (N, H, W) for grayscale; uint8 is scaled to [0, 1], floats are taken as they are. An optional
string array ``class_names`` names label value k at position k.
"""
import os
import zipfile

import numpy as np

from ..errors import DataError, DataFileNotFoundError
from ..transforms import resize_bilinear
from .base import InMemoryImageDataset, select_classes

__all__ = ["NpzDataset", "load_npz_arrays"]

_CHANNELS = (1, 3, 4)


def load_npz_arrays(path):
    """(x as NCHW float32 in the file's scale, y int64, class_names or None) from ``path``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFileNotFoundError(f"npz file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read npz file {path}: {exc}") from None
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise DataError(f"npz file {path} lacks array {missing[0]!r} (it has: "
                        f"{', '.join(sorted(arrays)) or 'nothing'})")
    x, y = _to_nchw(arrays["x"], path), arrays["y"]
    if y.ndim != 1 or y.shape[0] != x.shape[0] or y.dtype.kind not in "iu":
        raise DataError(f"npz file {path}: y must be {x.shape[0]} integer labels, got "
                        f"{y.dtype} array of shape {y.shape}")
    if y.size and y.min() < 0:
        raise DataError(f"npz file {path}: negative label {int(y.min())} in y")
    names = arrays.get("class_names")
    return x, y.astype(np.int64), None if names is None else [str(n) for n in names]


def _to_nchw(x, path):
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise DataError(f"npz file {path}: x must be (N, C, H, W) or (N, H, W, C), got {x.shape}")
    if x.shape[1] not in _CHANNELS and x.shape[3] in _CHANNELS:
        x = x.transpose(0, 3, 1, 2)
    elif x.shape[1] not in _CHANNELS:
        raise DataError(f"npz file {path}: cannot find a 1, 3 or 4 channel axis in x {x.shape}")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255)
    if x.dtype.kind != "f":
        raise DataError(f"npz file {path}: x must be uint8 or float, got {x.dtype}")
    return x.astype(np.float32)


class NpzDataset(InMemoryImageDataset):
    """Images and labels from ``path``; ``classes`` picks label values (or names) in order.

    mean/std default to the per-channel statistics of the selected images.
    """

    def __init__(self, path, classes=None, image_size=None, mean=None, std=None, augment=None):
        x, y, names = load_npz_arrays(path)
        known = sorted(int(v) for v in np.unique(y))
        if names is not None and classes is not None:
            classes = [names.index(c) if isinstance(c, str) and c in names else c
                       for c in classes]
        keep, labels, classes = select_classes(y, classes, known, f"npz file {path}")
        x = x[keep]
        if image_size is not None and x.shape[-2:] != (image_size, image_size):
            x = resize_bilinear(x, (image_size, image_size))
        if mean is None or std is None:
            stats_mean, stats_std = x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))
            mean = stats_mean.tolist() if mean is None else mean
            std = np.maximum(stats_std, 1e-6).tolist() if std is None else std
        class_names = [names[c] if names is not None and c < len(names) else str(c)
                       for c in classes]
        super().__init__(x, labels[keep], class_names, mean, std, augment)
        self.path = os.fspath(path)
