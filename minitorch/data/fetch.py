"""How one batch is made from a task: the same code runs in the main process and in workers.

A map-style task is ``(indices, epoch)``; the batch is the dataset's ``get_batch`` (whole-array
fast path, when there is no ``collate_fn``), its ``__getitems__``, or its items collated.
An iterable-style task is "the next batch" of this process's iterator over the dataset.
Random augmentation draws from one generator per sample seeded by (seed, epoch, index), so a
batch is the same whichever process makes it.
"""
import itertools

import numpy as np

from .collate import _tensor, default_collate, default_convert

__all__ = ["SampleRngs", "MapFetcher", "IterableFetcher"]

# Mixed into the per-sample seeds so augmentation draws never coincide with the shuffle order's.
_AUGMENT_STREAM = 0xA06


class SampleRngs:
    """``rngs[k]``: the generator for sample ``indices[k]`` of ``epoch``, created on first use."""

    def __init__(self, seed, epoch, indices):
        self.seed, self.epoch, self.indices = int(seed), int(epoch), indices
        self._made = {}

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, k):
        rng = self._made.get(k)
        if rng is None:
            key = [self.seed, self.epoch, _AUGMENT_STREAM, int(self.indices[k])]
            rng = self._made[k] = np.random.default_rng(key)
        return rng


class MapFetcher:
    """Batches (or, with ``auto_collation=False``, single samples) of a map-style dataset."""

    def __init__(self, dataset, collate_fn, auto_collation, seed):
        self.dataset, self.collate_fn = dataset, collate_fn
        self.auto_collation, self.seed = auto_collation, seed

    def fetch(self, task):
        idx, epoch = task
        if not self.auto_collation:
            return (self.collate_fn or default_convert)(self.dataset[int(idx)])
        rngs = SampleRngs(self.seed, epoch, idx)
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return [_tensor(a) for a in self.dataset.get_batch(idx, rngs)]
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            items = getitems([int(i) for i in idx])
        else:
            get_item = getattr(self.dataset, "get_item", None)
            items = [get_item(int(i), rngs[k]) if get_item is not None else
                     self.dataset[int(i)] for k, i in enumerate(idx)]
        return (self.collate_fn or default_collate)(items)


class IterableFetcher:
    """Successive batches of ``iter(dataset)``; ``StopIteration`` when it is exhausted."""

    def __init__(self, dataset, collate_fn, auto_collation, batch_size, drop_last):
        self.iterator = iter(dataset)
        self.collate_fn, self.auto_collation = collate_fn, auto_collation
        self.batch_size, self.drop_last = batch_size, drop_last

    def fetch(self, task=None):
        if not self.auto_collation:
            return (self.collate_fn or default_convert)(next(self.iterator))
        items = list(itertools.islice(self.iterator, self.batch_size))
        if not items or (self.drop_last and len(items) < self.batch_size):
            raise StopIteration
        return (self.collate_fn or default_collate)(items)
