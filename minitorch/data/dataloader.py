"""DataLoader: batches of minitorch Tensors in a deterministic order per (seed, epoch).

The order of an epoch comes from the sampler (a pure function of seed and epoch, see
sampler.py) and random augmentation from one generator per sample seeded with (seed, epoch,
index), so a run resumed at epoch e sees exactly the batches the interrupted run would have seen,
whatever its batch size or number of processes. A dataset with the batch protocol
(``get_batch(indices, rngs)``) builds each batch with whole-array numpy operations; any other
dataset is read item by item and stacked by ``default_collate``.
"""
import numbers

import numpy as np

from .errors import DataError
from .sampler import RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "SampleRngs"]

# Mixed into the per-sample seeds so augmentation draws never coincide with the shuffle order's.
_AUGMENT_STREAM = 0xA06


def _tensor(array):
    # Imported lazily: the data layer sits above the core and must not import it at load time.
    from minitorch.tensor import Tensor
    return Tensor(np.ascontiguousarray(array))


def default_collate(batch):
    """Stack a list of samples into Tensors, following torch's default_collate.

    Arrays and Tensors are stacked along a new first axis; Python ints become an int64 Tensor,
    floats a float64 Tensor (as in torch), bools a bool Tensor; tuples and lists are collated
    position by position (into a list), dicts key by key, strings are kept as a list.
    """
    if not batch:
        raise DataError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, np.ndarray) or _is_tensor(elem):
        return _tensor(np.stack([_array_of(b) for b in batch]))
    if isinstance(elem, (bool, np.bool_)):
        return _tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return _tensor(np.array(batch, dtype=elem.dtype if isinstance(elem, np.generic)
                                else np.int64))
    if isinstance(elem, numbers.Real):
        return _tensor(np.array(batch, dtype=elem.dtype if isinstance(elem, np.generic)
                                else np.float64))
    if isinstance(elem, str):
        return list(batch)
    if isinstance(elem, dict):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        if any(len(b) != len(elem) for b in batch):
            raise DataError("default_collate: samples in a batch have different lengths")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise DataError(f"default_collate cannot batch samples of type {type(elem).__name__}")


def _is_tensor(x):
    return isinstance(getattr(x, "_data", None), np.ndarray) and hasattr(x, "grad_fn")


def _array_of(x):
    return x._data if _is_tensor(x) else np.asarray(x)


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


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise DataError(f"invalid {name} {value!r}: must be an integer >= {minimum}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` Tensors (PyTorch's arguments).

    ``seed`` fixes the shuffle order and augmentation of every epoch; a numpy ``generator`` may be
    given instead and is drawn from once, here. ``set_epoch(e)`` selects epoch e (and forwards to
    the sampler); without it, each new iteration advances to the next epoch, so plain
    ``for epoch ...: for batch in loader`` still reshuffles every epoch.

    Datasets may offer ``get_batch(indices, rngs)`` (whole batch at once, preferred when
    ``collate_fn`` is None) or ``get_item(index, rng)`` (one sample with its generator); plain
    ``dataset[index]`` is used otherwise.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, drop_last=False,
                 collate_fn=None, generator=None, seed=0):
        self.dataset = dataset
        self.batch_size = _check_int(batch_size, "batch_size", 1)
        if generator is not None:
            seed = int(generator.integers(0, 2 ** 63 - 1))
        self.seed = _check_int(seed, "seed", 0)
        if sampler is not None and shuffle:
            raise DataError("DataLoader: sampler and shuffle=True are mutually exclusive")
        self._owns_sampler = sampler is None
        if sampler is None:
            sampler = RandomSampler(dataset, seed=self.seed) if shuffle \
                else SequentialSampler(dataset)
        self.sampler = sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.epoch = 0
        self._epoch_pending = True   # the epoch to use next has been chosen already

    def set_epoch(self, epoch):
        """Use the order and augmentation of ``epoch`` for the next iteration."""
        self.epoch = _check_int(epoch, "epoch", 0)
        self._epoch_pending = True
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(self.epoch)

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _sampler_indices(self):
        if hasattr(self.sampler, "indices"):
            return np.asarray(self.sampler.indices(), dtype=np.int64)
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def batch_indices(self):
        """The index arrays of this epoch's batches, in order."""
        order = self._sampler_indices()
        stops = range(self.batch_size, len(self) * self.batch_size + 1, self.batch_size)
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        return [order[a:min(b, order.size)] for a, b in zip(starts, stops)]

    def __iter__(self):
        # A sampler the user passed keeps the epoch the user gave it (torch's
        # sampler.set_epoch idiom); only the loader's own sampler advances by itself.
        if self._owns_sampler and not self._epoch_pending:
            self.set_epoch(self.epoch + 1)
        self._epoch_pending = False
        epoch = self.epoch if self._owns_sampler else getattr(self.sampler, "epoch", self.epoch)
        for idx in self.batch_indices():
            yield self._make_batch(idx, SampleRngs(self.seed, epoch, idx))

    def _make_batch(self, idx, rngs):
        if self.collate_fn is None and hasattr(self.dataset, "get_batch"):
            return [_tensor(a) for a in self.dataset.get_batch(idx, rngs)]
        items = [self._item(int(i), rngs, k) for k, i in enumerate(idx)]
        return (self.collate_fn or default_collate)(items)

    def _item(self, index, rngs, k):
        get_item = getattr(self.dataset, "get_item", None)
        return get_item(index, rngs[k]) if get_item is not None else self.dataset[index]
