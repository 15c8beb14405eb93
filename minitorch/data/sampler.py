"""Samplers: the order in which a DataLoader visits a dataset, as a pure function of (seed, epoch).

Every shuffled order comes from ``epoch_permutation(n, seed, epoch)``, so a run resumed at epoch e
replays exactly the order the interrupted run would have used, and RandomSampler and a one-process
DistributedSampler agree.

DistributedSampler shards like PyTorch's (``pad=False`` skips the wrap-around padding, for
evaluation): the global order is padded (by wrapping) to a multiple of
the number of replicas and rank r takes positions r, r + R, r + 2R, ... Because of this striding,
batch i of size B on every rank together holds exactly global positions [i*B*R, (i+1)*B*R), i.e.
global batch i of a one-process run with batch size B*R over the same (seed, epoch) order. Data
parallel training therefore sees the same global batches whatever the number of processes (the
order inside a global batch differs, which a mean over the batch ignores). This holds for every
full global batch; when N is not a multiple of R, the last partial batch also holds the wrapped
padding samples (drop_last=True on the sampler and the loader removes the tail instead). With
``pad=False`` (what the trainer uses, for training and evaluation) there is no repeat: the shards
differ in length by at most one, batch i of every rank still lies inside global batch i, and a
rank may find its shard exhausted in the last global batch (the trainer then takes an empty step).
"""
import numpy as np

from .errors import DataError

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "DistributedSampler",
           "epoch_permutation"]


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


class Sampler:
    """Base class: iterating yields dataset indices; ``indices()`` gives them as an int64 array."""

    epoch = 0

    def set_epoch(self, epoch):
        """Select the order of this epoch (like torch's DistributedSampler.set_epoch)."""
        self.epoch = int(epoch)

    def indices(self):
        raise NotImplementedError

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return int(self.indices().size)


class SequentialSampler(Sampler):
    """0, 1, ..., n-1 in order, every epoch."""

    def __init__(self, data_source):
        self.num_samples = _length(data_source)

    def indices(self):
        return np.arange(self.num_samples, dtype=np.int64)

    def __len__(self):
        return self.num_samples


class RandomSampler(Sampler):
    """A permutation of range(n) determined by (seed, epoch); call ``set_epoch`` for a new one."""

    def __init__(self, data_source, seed=0):
        self.num_samples = _length(data_source)
        self.seed = _check_seed(seed)

    def indices(self):
        return epoch_permutation(self.num_samples, self.seed, self.epoch).astype(np.int64)

    def __len__(self):
        return self.num_samples


def _default_topology():
    """(world size, rank) from minitorch.distributed when it is available, else one process."""
    try:
        from minitorch import distributed
        return int(distributed.world_size()), int(distributed.rank())
    except (ImportError, AttributeError):
        return 1, 0


class DistributedSampler(Sampler):
    """Rank ``rank``'s disjoint shard of the (seed, epoch) order; see the module docstring."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False, pad=True):
        if num_replicas is None or rank is None:
            world, own = _default_topology()
            num_replicas = world if num_replicas is None else num_replicas
            rank = own if rank is None else rank
        self.dataset_len = _length(dataset)
        self.total_size, self.num_samples = self._sizes(self.dataset_len, num_replicas, rank,
                                                        drop_last)
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), _check_seed(seed), bool(drop_last)
        # pad=False (a minitorch extension, for evaluation): no wrapped repeats, so shards may
        # differ in length by one and metrics summed over ranks count every sample once.
        self.pad = bool(pad)
        if not self.pad and not self.drop_last:
            self.total_size = self.dataset_len
            self.num_samples = len(range(self.rank, self.dataset_len, self.num_replicas))

    @staticmethod
    def _sizes(n, num_replicas, rank, drop_last):
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, (int, np.integer)) \
                or num_replicas < 1:
            raise DataError(f"invalid num_replicas {num_replicas!r}: must be an integer >= 1")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
                or not 0 <= rank < num_replicas:
            raise DataError(f"invalid rank {rank!r}: must be in [0, {num_replicas - 1}]")
        if n < num_replicas:
            raise DataError(f"dataset of {n} samples is smaller than the number of replicas "
                            f"({num_replicas}): every process needs at least one sample")
        per_rank = n // num_replicas if drop_last else -(-n // num_replicas)
        return per_rank * num_replicas, per_rank

    def global_indices(self):
        """The epoch's order for all ranks, padded by wrapping or truncated to ``total_size``."""
        n = self.dataset_len
        order = (epoch_permutation(n, self.seed, self.epoch) if self.shuffle
                 else np.arange(n)).astype(np.int64)
        if self.total_size <= n:
            return order[:self.total_size]
        # Wrap around (repeatedly if the dataset is tiny) as torch does, so every rank has as
        # many samples and steps in lockstep.
        reps = -(-self.total_size // n)
        return np.tile(order, reps)[:self.total_size]

    def indices(self):
        return self.global_indices()[self.rank::self.num_replicas]

    def __len__(self):
        return self.num_samples
