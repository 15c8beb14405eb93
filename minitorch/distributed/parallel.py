"""``GradientSync``: the trainer's one seam for data parallelism.

Data parallel training keeps one replica of the model per rank. The replicas start equal
(``broadcast_initial``: rank 0's parameters and buffers), each rank computes gradients on its own
shard of the global batch, ``sync`` combines them across ranks, and every rank then takes the same
optimizer step, so the replicas stay equal. With a mean loss per rank and equal shard sizes,
``op="mean"`` gives the gradient of the mean loss over the global batch. Shards of any sizes
(the last batch of an epoch whose length is no multiple of the ranks, even an empty shard) need
``op="sum"`` over per-rank losses that are each rank's *sum* of sample losses divided by the
global batch's sample count (what the trainer does): sum_r sum_i l_ri / N is the global mean.
Either way it is the step a single process takes on the whole batch, to float32 rounding (the
sum runs in a different order).

Alone (world size 1) every method is a no-op, so the trainer calls them unconditionally.
"""
import hashlib

import numpy as np

from . import env
from .collectives import (BUCKET_BYTES, all_reduce_, all_reduce_scalars, broadcast_,
                          layout_signature)

__all__ = ["GradientSync", "DataParallelError", "check_dataset_size", "split_global_batch"]


class DataParallelError(ValueError):
    """A data-parallel setup that cannot work (too few samples, an indivisible batch)."""


def check_dataset_size(num_samples, world=None, what="training set"):
    """Every rank needs at least one sample: refuse a dataset smaller than the world."""
    world = env.world_size() if world is None else world
    if num_samples < world:
        raise DataParallelError(f"the {what} has {num_samples} samples, fewer than the "
                                f"{world} processes: every process needs at least one")
    return num_samples


def split_global_batch(global_batch, world=None):
    """The per-rank batch of a global batch: it must divide evenly among the ranks, or the
    ranks' shards (and their gradients' weights in the mean) would differ."""
    world = env.world_size() if world is None else world
    if global_batch < world or global_batch % world:
        raise DataParallelError(f"global batch {global_batch} does not divide evenly among "
                                f"{world} processes: use a multiple of {world}")
    return global_batch // world


class GradientSync:
    """Gradient averaging, initial broadcast and metric reduction for one model.

    Usage in a trainer::

        sync = GradientSync(model)            # after dist.init(), before building the optimizer
        sync.broadcast_initial()              # replicas start equal (after loading weights)
        ...
        loss.backward()
        sync.sync()                           # average the trainable gradients across ranks
        optimizer.step()
        ...
        totals = sync.reduce_metrics({"loss_sum": s, "correct": c, "count": n})
    """

    def __init__(self, model, bucket_bytes=BUCKET_BYTES):
        env.init()
        self.model = model
        self.bucket_bytes = bucket_bytes
        self.world_size = env.world_size()
        self._checked_signature = None

    @property
    def enabled(self):
        """True when there is more than one rank (something to synchronise)."""
        return self.world_size > 1

    def broadcast_initial(self):
        """Copy rank 0's parameters and buffers (BatchNorm running statistics, step counters)
        to every rank: the replicas must start bitwise equal."""
        if not self.enabled:
            return
        tensors = list(self.model.parameters()) + list(self.model.buffers())
        self._check_layout([t._data for t in tensors], "parameters and buffers")
        broadcast_(tensors, src=0, bucket_bytes=self.bucket_bytes)

    def sync(self, params=None, op="mean"):
        """Average (``op="mean"``) or sum (``op="sum"``, see the module docstring) the gradients
        of the trainable parameters (``params``, default: the model's parameters with
        ``requires_grad``) across ranks, in place.

        A parameter whose ``.grad`` is None on every rank (unused in this step) stays None; if
        some ranks have a gradient and others not, the missing ones count as zeros, so every
        rank still packs the same buckets."""
        if not self.enabled:
            return
        params = [p for p in (self.model.parameters() if params is None else params)
                  if p.requires_grad]
        present = self._gradients_present(params)
        grads = []
        for p, has in zip(params, present):
            if has and p.grad is None:
                p.grad = _zeros_like_grad(p)
            if has:
                grads.append(p.grad)
        self._check_layout([g._data for g in grads], "gradients")
        if op not in ("mean", "sum"):
            raise ValueError(f"GradientSync.sync: op must be 'mean' or 'sum', got {op!r}")
        all_reduce_(grads, op=op, bucket_bytes=self.bucket_bytes)

    def reduce_metrics(self, values):
        """Sum a dict of counts across ranks (e.g. ``loss_sum``, ``correct``, ``count``): a
        no-op alone. Means are then computed from the sums, so they weigh every sample once."""
        return all_reduce_scalars(values, op="sum")

    def _gradients_present(self, params):
        """Per parameter: does any rank hold a gradient? (one tiny all-reduce)."""
        mask = np.array([p.grad is not None for p in params], dtype=np.uint8)
        all_reduce_([mask], op="max")
        return mask.astype(bool)

    def _check_layout(self, arrays, what):
        """Once per distinct layout: every rank must pass the same shapes and dtypes, or the
        bucketed collectives would silently mix unrelated numbers."""
        signature = (what, layout_signature(arrays))
        if signature == self._checked_signature:
            return
        # hashlib, not hash(): str hashes are salted per process, so they differ across ranks.
        digest = hashlib.sha1(repr(signature).encode()).hexdigest()
        all_signatures = env.get_comm().allgather(digest)
        if len(set(all_signatures)) != 1:
            raise env.DistributedError(
                f"ranks disagree on the {what} to synchronise ({len(arrays)} tensors on rank "
                f"{env.rank()}): every rank must build the same model and freeze the same layers")
        self._checked_signature = signature


def _zeros_like_grad(p):
    """A zero gradient Tensor shaped like parameter ``p``."""
    from ..tensor import Tensor
    return Tensor._new(np.zeros_like(p._data))
