"""DistributedSampler: rank ``rank``'s shard of a (seed, epoch) order, sharded like PyTorch's.

``pad=False`` skips the wrap-around padding, for evaluation. The global order is padded (by
wrapping) to a multiple of the number of replicas and rank r takes positions r, r + R, r + 2R, ...
Because of this striding, batch i of size B on every rank together holds exactly global positions
[i*B*R, (i+1)*B*R), i.e. global batch i of a one-process run with batch size B*R over the same
(seed, epoch) order. Data parallel training therefore sees the same global batches whatever the
number of processes (the order inside a global batch differs, which a mean over the batch
ignores). This holds for every full global batch; when N is not a multiple of R, the last partial
batch also holds the wrapped padding samples (drop_last=True on the sampler and the loader removes
the tail instead). With ``pad=False`` (what the trainer uses, for training and evaluation) there
is no repeat: the shards differ in length by at most one, batch i of every rank still lies inside
global batch i, and a rank may find its shard exhausted in the last global batch (the trainer then
takes an empty step). As in torch, the order changes only when ``set_epoch`` is called.
"""
import numpy as np

from .errors import DataError
from .sampler import Sampler, _check_seed, _length, epoch_permutation

__all__ = ["DistributedSampler"]


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
