"""InMemoryImageDataset: images held as one NCHW float32 array in [0, 1], labels as int64.

Shared by the digits and npz datasets. Samples are normalised with (mean, std) after the optional
augmentation (so crop padding is black, as in torchvision pipelines); ``get_batch`` does the whole
batch with one fancy-index and vectorised transforms.
"""
import numpy as np

from ..dataset import Dataset
from ..errors import DataError
from ..transforms import Normalize

__all__ = ["InMemoryImageDataset", "select_classes"]


def select_classes(labels, classes, known, describe):
    """(mask of kept samples, new labels 0..k-1 in ``classes`` order) for the chosen classes.

    ``known`` lists the valid class values; ``describe`` names the dataset in error messages.
    """
    labels = np.asarray(labels)
    if classes is None:
        classes = list(known)
    classes = list(classes)
    if not classes:
        raise DataError(f"{describe}: classes is empty; choose at least one of {list(known)}")
    seen = set()
    for c in classes:
        if c in seen:
            raise DataError(f"{describe}: class {c!r} is listed twice in classes")
        seen.add(c)
        if isinstance(c, (bool, np.bool_)) or c not in known:
            raise DataError(f"{describe}: unknown class {c!r}; available: "
                            f"{', '.join(str(k) for k in known)}")
    lookup = np.full(int(labels.max()) + 1 if labels.size else 1, -1, dtype=np.int64)
    for pos, c in enumerate(classes):
        lookup[c] = pos
    new = lookup[labels]
    return new >= 0, new, classes


class InMemoryImageDataset(Dataset):
    """A dataset over ``images`` (N, C, H, W) in [0, 1] and integer ``targets``."""

    def __init__(self, images, targets, class_names, mean, std, augment=None):
        self.images = np.ascontiguousarray(images, dtype=np.float32)
        self.targets = np.asarray(targets, dtype=np.int64)
        if self.images.ndim != 4 or self.images.shape[0] != self.targets.shape[0]:
            raise DataError(f"images {self.images.shape} and targets {self.targets.shape} "
                            "do not describe the same N samples of CHW images")
        self.class_names = [str(c) for c in class_names]
        self.normalize = Normalize(mean, std)
        if len(self.normalize.mean) not in (1, self.images.shape[1]):
            raise DataError(f"{len(self.normalize.mean)} mean/std values for images with "
                            f"{self.images.shape[1]} channels")
        self.mean, self.std = self.normalize.mean, self.normalize.std
        self.augment = augment
        self._arrays = None

    @property
    def classes(self):
        return self.class_names

    @property
    def is_random(self):
        """Whether samples depend on the generator (random augmentation): no feature caching."""
        return bool(getattr(self.augment, "is_random", self.augment is not None))

    @property
    def augment_continuous(self):
        """Why the augmentation's outcomes cannot be enumerated (None: they can)."""
        return getattr(self.augment, "continuous", None)

    def view_keys(self, indices, rngs):
        """The augmentation outcome of each sample (``Transform.view_key``): samples with equal
        keys are bitwise equal. ``rngs`` as for ``get_batch`` (fresh ones: this draws)."""
        if self.augment is None:
            return [()] * len(indices)
        hw = tuple(self.images.shape[-2:])
        return [self.augment.view_key(rngs[k], hw) for k in range(len(indices))]

    def views(self, index, limit):
        """Every view key sample ``index`` can get (``Compose.views``: ``[()]`` without
        augmentation), None when there are more than ``limit`` or they cannot be listed."""
        if self.augment is None:
            return [()]
        if not hasattr(self.augment, "views"):
            return None
        return self.augment.views(tuple(self.images.shape[-2:]), limit)

    def get_views(self, index, keys):
        """(len(keys), C, H, W): sample ``index`` under each view key, bitwise the rows
        ``get_batch`` makes when its generators draw those keys."""
        image = self.images[int(index)]
        views = [image] * len(keys) if self.augment is None else \
            self.augment.apply_views(image, keys)
        return np.stack([self.normalize(v) for v in views])

    def __len__(self):
        return int(self.targets.shape[0])

    def without_augment(self):
        """The same samples without random augmentation (for validation), sharing the arrays."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.augment = None
        return clone

    def __getitem__(self, index):
        """One sample; a random augmentation draws from a generator seeded with the index."""
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of length {len(self)}")
        index %= len(self)
        return self.get_item(index, np.random.default_rng(index))

    def get_item(self, index, rng):
        """One sample, augmented with ``rng``."""
        image = self.images[int(index)]
        if self.augment is not None:
            image = self.augment(image, rng)
        return self.normalize(image), int(self.targets[int(index)])

    def get_batch(self, indices, rngs=None):
        """(images (B, C, H, W) float32, labels (B,) int64) for ``indices``, one gather."""
        indices = np.asarray(indices, dtype=np.int64)
        images = self.images[indices]
        if self.augment is not None:
            images = self.augment.apply_batch(images, rngs)
        return self.normalize(images), self.targets[indices]

    def arrays(self):
        """All samples, normalised and not augmented: (images, labels)."""
        if self._arrays is None:
            self._arrays = (self.normalize(self.images), self.targets)
        return self._arrays
