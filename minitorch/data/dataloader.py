"""DataLoader: PyTorch's arguments, batches of minitorch Tensors, optional worker processes.

The order of an epoch comes from the sampler (a pure function of seed and epoch, see
sampler.py) and random augmentation from one generator per sample seeded with (seed, epoch,
index), so a run resumed at epoch e sees exactly the batches the interrupted run would have seen,
whatever its batch size, number of processes or number of workers. A dataset with the batch
protocol (``get_batch(indices, rngs)``) builds each batch with whole-array numpy operations; any
other dataset is read item by item and collated (see fetch.py). ``num_workers > 0`` makes the
batches in worker processes (loader_workers.py) and yields them in the same order.
"""
import numbers

import numpy as np

from .collate import default_collate
from .dataset import IterableDataset
from .errors import DataError
from .fetch import IterableFetcher, MapFetcher, SampleRngs
from .loader_workers import MultiProcessIter
from .sampler import RandomSampler, SequentialSampler, draw_seed

__all__ = ["DataLoader", "default_collate", "SampleRngs"]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise DataError(f"invalid {name} {value!r}: must be an integer >= {minimum}")
    return int(value)


class _SingleProcessIter:
    """Makes each batch when asked for it, in this process."""

    def __init__(self, fetcher, tasks):
        self._fetcher, self._tasks = fetcher, tasks

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._tasks))


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors, with PyTorch's arguments.

    ``seed`` (a minitorch extension) fixes the shuffle order and augmentation of every epoch;
    without it the seed is the given sampler's ``seed`` (a DistributedSampler's, so every rank
    agrees), else drawn once from ``generator`` or, without that, from minitorch's global
    generator (so ``mt.manual_seed`` makes the run reproducible). ``set_epoch(e)`` selects
    epoch e (and forwards to the sampler); without it each new iteration advances to the next
    epoch, so ``for epoch ...: for batch in loader`` reshuffles every epoch, as in torch.
    ``pin_memory`` changes nothing on the CPU; ``timeout``, ``worker_init_fn``,
    ``multiprocessing_context``, ``prefetch_factor``, ``persistent_workers`` and ``in_order``
    apply with ``num_workers > 0``, as in torch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True, seed=None):
        self.dataset = dataset
        self._check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        self.num_workers, self.timeout = int(num_workers), timeout
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers, self.in_order = bool(persistent_workers), bool(in_order)
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.pin_memory, self.pin_memory_device = bool(pin_memory), pin_memory_device
        self.generator = generator
        if seed is None and generator is None and isinstance(getattr(sampler, "seed", None),
                                                             numbers.Integral):
            seed = sampler.seed   # e.g. a DistributedSampler's: the same on every rank
        self.seed = _check_int(draw_seed(generator) if seed is None else seed, "seed", 0)
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle not in (None, False) or sampler is not None
                               or batch_sampler is not None):
            what = ("shuffle option, but got shuffle=" + repr(shuffle)
                    if shuffle not in (None, False) else
                    "sampler option, but got sampler=" + repr(sampler) if sampler is not None
                    else "batch_sampler option, but got batch_sampler=" + repr(batch_sampler))
            raise DataError(f"DataLoader with IterableDataset: expected unspecified {what}")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise DataError("batch_sampler option is mutually exclusive with batch_size, "
                            "shuffle, sampler, and drop_last")
        if sampler is not None and shuffle:
            raise DataError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is None and batch_size is not None:
            batch_size = _check_int(batch_size, "batch_size", 1)
        elif batch_sampler is None and drop_last:
            raise DataError("batch_size=None option disables auto-batching and is mutually "
                            "exclusive with drop_last")
        self.batch_size, self.drop_last = batch_size, bool(drop_last)
        self._owns_sampler = sampler is None and not self._iterable
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, seed=self.seed) if shuffle \
                else SequentialSampler(dataset)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn
        self.epoch = 0
        self._epoch_pending = True   # the epoch to use next has been chosen already
        self._workers = None         # the persistent workers' iterator, kept between epochs

    @staticmethod
    def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers):
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) \
                or num_workers < 0:
            raise DataError(f"num_workers option should be non-negative; use num_workers=0 to "
                            f"disable multiprocessing (got {num_workers!r})")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise DataError(f"timeout option should be non-negative (got {timeout!r})")
        if num_workers == 0 and prefetch_factor is not None:
            raise DataError("prefetch_factor option could only be specified in multiprocessing: "
                            "let num_workers > 0 to enable multiprocessing, otherwise set "
                            "prefetch_factor to None")
        if prefetch_factor is not None:
            _check_int(prefetch_factor, "prefetch_factor", 1)
        if persistent_workers and num_workers == 0:
            raise DataError("persistent_workers option needs num_workers > 0")

    @property
    def auto_collation(self) -> bool:
        return self.batch_sampler is not None or self.batch_size is not None

    def set_epoch(self, epoch):
        """Use the order and augmentation of ``epoch`` for the next iteration."""
        self.epoch = _check_int(epoch, "epoch", 0)
        self._epoch_pending = True
        for s in (self.sampler, self.batch_sampler):
            if hasattr(s, "set_epoch"):
                s.set_epoch(self.epoch)

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)   # TypeError, as torch, for a dataset without a length
        elif self.batch_sampler is not None:
            return len(self.batch_sampler)
        else:
            n = len(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _sampler_indices(self):
        # The loader's own sampler follows the loader's epoch; a sampler the user passed is
        # iterated, so it advances (RandomSampler) or keeps the user's set_epoch (Distributed).
        if self._owns_sampler:
            return np.asarray(self.sampler.indices(), dtype=np.int64)
        return np.fromiter(iter(self.sampler), dtype=np.int64)

    def batch_indices(self):
        """The index arrays of this epoch's batches, in order (map-style datasets)."""
        if self.batch_sampler is not None:
            return [np.asarray(b, dtype=np.int64) for b in self.batch_sampler]
        order = self._sampler_indices()
        if self.batch_size is None:
            return list(order)
        full = order.size // self.batch_size * self.batch_size
        batches = [order[a:a + self.batch_size] for a in range(0, full, self.batch_size)]
        if full < order.size and not self.drop_last:
            batches.append(order[full:])
        return batches

    def _next_epoch(self):
        # A sampler the user passed keeps the epoch the user gave it (torch's
        # sampler.set_epoch idiom); only the loader's own sampler advances by itself.
        if self._owns_sampler and not self._epoch_pending:
            self.set_epoch(self.epoch + 1)
        self._epoch_pending = False
        return self.epoch if self._owns_sampler else getattr(self.sampler, "epoch", self.epoch)

    def _tasks(self):
        if self._iterable:
            return None
        epoch = self._next_epoch()
        return [(idx, epoch) for idx in self.batch_indices()]

    def worker_spec(self):
        """What every worker needs to make batches (inherited by fork, pickled by spawn)."""
        return {"dataset": self.dataset, "collate_fn": self.collate_fn,
                "auto_collation": self.auto_collation, "batch_size": self.batch_size,
                "drop_last": self.drop_last, "seed": self.seed, "iterable": self._iterable,
                "worker_init_fn": self.worker_init_fn}

    def __iter__(self):
        tasks = self._tasks()
        if self.num_workers == 0:
            if self._iterable:
                fetcher = IterableFetcher(self.dataset, self.collate_fn, self.auto_collation,
                                          self.batch_size, self.drop_last)
                return _SingleProcessIter(fetcher, iter(int, 1))
            fetcher = MapFetcher(self.dataset, self.collate_fn, self.auto_collation, self.seed)
            return _SingleProcessIter(fetcher, iter(tasks))
        if self.persistent_workers and self._workers is not None:
            self._workers.reset(tasks)
            return self._workers
        workers = MultiProcessIter(self, tasks, draw_seed(self.generator))
        if self.persistent_workers:
            self._workers = workers
        return workers
