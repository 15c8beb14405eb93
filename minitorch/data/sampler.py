"""Samplers: the order in which a DataLoader visits a dataset, with PyTorch's names.

Every random order is a pure function of (seed, epoch): ``RandomSampler``'s permutation is
``epoch_permutation(n, seed, epoch)``, the one ``DistributedSampler`` uses, so a run resumed at
epoch e replays exactly the order the interrupted run would have used, and a one-process
DistributedSampler agrees with RandomSampler. The seed comes from ``seed=``, else is drawn once
from ``generator=``, else from minitorch's global generator (so ``mt.manual_seed`` fixes it).
As in torch, each new iteration of a random sampler gives a new order (the next epoch) unless
``set_epoch`` chose the epoch for it.
"""
import numbers

import numpy as np

from minitorch.random import default_generator

from .errors import DataError

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "epoch_permutation"]


def epoch_permutation(n, seed, epoch):
    """The shuffled order of ``range(n)`` for (seed, epoch): the same on every process and run."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(int(n))


def _length(data_source):
    """A dataset's length, or the int itself (samplers accept either)."""
    if isinstance(data_source, (int, np.integer)) and not isinstance(data_source, bool):
        n = int(data_source)
    else:
        n = len(data_source)
    if n < 0:
        raise DataError(f"invalid dataset length {n}: must be >= 0")
    return n


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"invalid seed {seed!r}: must be an integer >= 0")
    return int(seed)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise DataError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _boolean(value, name, error=DataError):
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value!r}")
    return value


def draw_seed(generator=None):
    """A fresh 63-bit seed from ``generator`` (or minitorch's global generator)."""
    g = generator if generator is not None else default_generator()
    return int(g.integers(0, 2 ** 63 - 1))


class Sampler:
    """Base class: iterating yields dataset indices; ``indices()`` gives them as an int64 array."""

    epoch = 0

    def __init__(self, data_source=None):
        pass

    def set_epoch(self, epoch):
        """Select the order of this epoch (like torch's DistributedSampler.set_epoch)."""
        self.epoch = int(epoch)

    def indices(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__ or indices()")

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return int(self.indices().size)


class SequentialSampler(Sampler):
    """0, 1, ..., n-1 in order, every epoch."""

    def __init__(self, data_source):
        self.data_source = data_source
        self.num_samples = _length(data_source)

    def indices(self):
        return np.arange(self.num_samples, dtype=np.int64)

    def __len__(self):
        return self.num_samples


class _EpochRandomSampler(Sampler):
    """A random order per (seed, epoch); a new iteration moves to the next epoch by itself unless
    ``set_epoch`` was called since the last one (the DataLoader drives its own sampler so)."""

    def _init_random(self, generator, seed):
        self.generator = generator
        self.seed = _check_seed(draw_seed(generator) if seed is None else seed)
        self.epoch = 0
        self._epoch_chosen = True

    def set_epoch(self, epoch):
        self.epoch = int(epoch)
        self._epoch_chosen = True

    def _rng(self, stream):
        return np.random.default_rng([self.seed, self.epoch, stream])

    def __iter__(self):
        if not self._epoch_chosen:
            self.epoch += 1
        self._epoch_chosen = False
        return iter(self.indices().tolist())


class RandomSampler(_EpochRandomSampler):
    """A random permutation of the dataset each epoch, or ``num_samples`` draws (with
    ``replacement=True``: independent draws; without: whole permutations back to back)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None,
                 seed=None):
        self.data_source = data_source
        self.replacement = _boolean(replacement, "replacement", TypeError)
        self.n = _length(data_source)
        self._num_samples = None if num_samples is None else _positive_int(num_samples,
                                                                             "num_samples")
        self._init_random(generator, seed)

    @property
    def num_samples(self):
        return self.n if self._num_samples is None else self._num_samples

    def indices(self):
        n, k = self.n, self.num_samples
        if self.replacement:
            return self._rng(1).integers(0, n, k, dtype=np.int64) if n else \
                np.zeros(0, np.int64)
        if self._num_samples is None:
            return epoch_permutation(n, self.seed, self.epoch).astype(np.int64)
        rng = self._rng(2)
        perms = [rng.permutation(n) for _ in range(-(-k // n))] if n else []
        return np.concatenate(perms)[:k].astype(np.int64) if perms else np.zeros(0, np.int64)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_EpochRandomSampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices, generator=None, seed=None):
        self.subset = np.asarray(indices, dtype=np.int64).reshape(-1)
        self._init_random(generator, seed)

    def indices(self):
        return self.subset[self._rng(3).permutation(self.subset.size)]

    def __len__(self):
        return int(self.subset.size)


class WeightedRandomSampler(_EpochRandomSampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None, seed=None):
        self.num_samples = _positive_int(num_samples, "num_samples")
        self.replacement = _boolean(replacement, "replacement")
        w = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if w.ndim != 1:
            raise DataError(f"weights should be a 1d sequence but given weights have shape "
                            f"{tuple(w.shape)}")
        if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise DataError("WeightedRandomSampler: weights must be finite, non-negative and not "
                            "all zero")
        self.weights = w
        self._init_random(generator, seed)

    def indices(self):
        if not self.replacement and self.num_samples > np.count_nonzero(self.weights):
            raise DataError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                            f"replacement ({self.num_samples} from {np.count_nonzero(self.weights)}"
                            f" non-zero weights)")
        p = self.weights / self.weights.sum()
        return self._rng(4).choice(p.size, self.num_samples, replace=self.replacement,
                                   p=p).astype(np.int64)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.drop_last = _boolean(drop_last, "drop_last")

    def set_epoch(self, epoch):
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
