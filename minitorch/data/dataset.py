"""Datasets with PyTorch's names: ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``ChainDataset``.

A map-style dataset maps an index to one sample. Datasets that hold their data in memory may also
implement the batch protocol ``get_batch(indices, rngs)``: it returns the whole batch as a tuple of
stacked arrays built with one fancy-index, which the DataLoader prefers over per-item calls.
``rngs`` is a sequence giving one ``np.random.Generator`` per sample (``rngs[k]`` for
``indices[k]``), seeded from (seed, epoch, dataset index), so random augmentation is reproducible
and does not depend on the batch size, the number of workers or how samples are sharded.
"""
import bisect

import numpy as np

from .errors import DataError

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset"]


class Dataset:
    """Base class: subclasses implement ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses implement ``__iter__``. With ``num_workers > 0`` every
    worker iterates its own copy; use ``get_worker_info()`` in ``__iter__`` to split the work."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it has no __getitem__")

    def __add__(self, other):
        return ChainDataset([self, other])


def _as_array(t):
    """The ndarray behind a minitorch Tensor, or ``np.asarray`` of anything else."""
    data = getattr(t, "_data", None)
    return data if isinstance(data, np.ndarray) else np.asarray(t)


def _check_index(index, n, owner):
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for {owner} of length {n}")
    return index % n if n else index


def _row_index(index, n, owner):
    """An index that both numpy arrays and Tensors accept: an int (checked), a slice, or an
    int64 array (from a list or a Tensor of indices)."""
    if isinstance(index, slice):
        return index
    if isinstance(index, (int, np.integer)) or getattr(index, "ndim", None) == 0:
        return _check_index(index, n, owner)
    return _as_array(index).astype(np.int64, copy=False)


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``: tensors (or arrays) sharing their first
    dimension. As in torch, ``i`` may also be a slice or a tensor/list of indices."""

    is_random = False

    def __init__(self, *tensors):
        if not tensors:
            raise DataError("TensorDataset needs at least one tensor")
        self.arrays_ = tuple(_as_array(t) for t in tensors)
        sizes = [a.shape[0] if a.ndim else None for a in self.arrays_]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays_)
            raise DataError(f"TensorDataset tensors must share their first dimension, got {shapes}")
        self.tensors = tensors

    def __len__(self):
        return self.arrays_[0].shape[0]

    def __getitem__(self, index):
        index = _row_index(index, len(self), "TensorDataset")
        return tuple(t[index] for t in self.tensors)

    def get_batch(self, indices, rngs=None):
        """The rows at ``indices`` of every tensor, one fancy-index each."""
        indices = np.asarray(indices, dtype=np.int64)
        return tuple(a[indices] for a in self.arrays_)

    def arrays(self):
        """All samples as arrays (no copy)."""
        return self.arrays_


# Descriptive attributes a Subset reports from the dataset it wraps (targets: its own rows).
_FORWARDED = ("classes", "class_names", "targets", "is_random", "mean", "std",
              "augment_continuous")


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= n):
            bad = self.indices[(self.indices < 0) | (self.indices >= n)][0]
            raise DataError(f"Subset index {bad} out of range for a dataset of length {n}")

    def __len__(self):
        return int(self.indices.size)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)) or getattr(index, "ndim", 0) > 0:
            return [self[int(i)] for i in _as_array(index).reshape(-1)]
        return self.dataset[int(self.indices[_check_index(index, len(self), "Subset")])]

    def __getattr__(self, name):
        # The batch path exists exactly when the wrapped dataset has one; plain attribute lookup
        # keeps hasattr(subset, "get_batch") truthful.
        if name == "get_batch" and hasattr(self.dataset, "get_batch"):
            return self._get_batch
        if name == "arrays" and hasattr(self.dataset, "arrays"):
            return self._arrays
        if name == "view_keys" and hasattr(self.dataset, "view_keys"):
            return self._view_keys
        if name == "views" and hasattr(self.dataset, "views"):
            return self._views
        if name == "get_views" and hasattr(self.dataset, "get_views"):
            return self._get_views
        if name in _FORWARDED:
            return self._forward(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _forward(self, name):
        value = getattr(self.dataset, name)
        if name == "targets":
            return np.asarray(value)[self.indices]
        return value

    def _arrays(self):
        return tuple(a[self.indices] for a in self.dataset.arrays())

    def _view_keys(self, indices, rngs):
        return self.dataset.view_keys(self.indices[np.asarray(indices, dtype=np.int64)], rngs)

    def _views(self, index, limit):
        return self.dataset.views(int(self.indices[int(index)]), limit)

    def _get_views(self, index, keys):
        return self.dataset.get_views(int(self.indices[int(index)]), keys)

    def _get_batch(self, indices, rngs=None):
        inner = self.indices[np.asarray(indices, dtype=np.int64)]
        return self.dataset.get_batch(inner, rngs)


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise DataError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise DataError("ConcatDataset does not support IterableDataset (use "
                                "ChainDataset)")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        index = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets, iterated one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)
