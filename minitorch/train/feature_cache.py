"""The frozen backbone as a separate stage, computed once: ``train.feature_cache``.

When everything but the head (``fc``) is frozen, the frozen BatchNorm layers run in eval mode and
the data are deterministic (no random augmentation), the backbone maps each sample to the same
feature vector in every epoch. The trainer then runs the backbone as a stage of its own, over the
dataset in fixed chunks (positions 0..B-1, B..2B-1, ...), and trains the head on rows of that
feature matrix in each epoch's batch order.

- ``auto``: the features are computed in the first epoch and reused by every later one, so a later
  epoch costs only the head's forward and backward.
- ``off``: the backbone stage runs over the data again in every epoch (same chunks, same bits).

A run that does not qualify trains the whole model batch by batch, as usual.

Fixed chunks are what makes the two bitwise identical. A convolution's GEMM sums in an order
that depends on the batch around a sample (its size and the blocking), so features computed inside
each epoch's shuffled batches would differ in the last bits from epoch to epoch; computed in the
same chunks they are the same bits whether they are kept or recomputed.

Validation runs in eval mode in the same order every epoch, so its features are kept per batch.
With data parallelism every rank computes the features of the whole training set (once, with the
cache) and takes its shard's rows, so the ranks' features are identical too.
"""
import contextlib

import numpy as np

from minitorch import nn
from minitorch.autograd.grad_mode import no_grad
from minitorch.tensor import Tensor

from .freeze import HEAD_PREFIX

__all__ = ["FeatureCache", "feature_cache_status"]


def feature_cache_status(config, model, plan, train_set):
    """(usable, reason): can the backbone run as a stage of its own in this run?"""
    head = getattr(model, HEAD_PREFIX, None)
    if not isinstance(head, nn.Module):
        return False, f"off (the model has no '{HEAD_PREFIX}' head)"
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if any(not n.startswith(HEAD_PREFIX + ".") for n in trainable):
        return False, "off (part of the backbone trains)"
    if getattr(train_set, "is_random", True):
        return False, "off (random augmentation changes the inputs every epoch)"
    frozen_bn = set(plan.frozen_bn)
    for name, m in model.named_modules():
        if name == HEAD_PREFIX or name.startswith(HEAD_PREFIX + "."):
            continue
        if isinstance(m, nn.Dropout) or (isinstance(m, nn.BatchNorm2d) and name not in frozen_bn):
            return False, f"off ({name} behaves differently in training)"
    if config.train.feature_cache == "off":
        return True, "off: the frozen backbone runs as its own stage every epoch"
    return True, "on: the frozen backbone's features are computed once and reused"


@contextlib.contextmanager
def _headless(model):
    """The model with its head replaced by Identity: ``model(x)`` gives the head's input."""
    head = getattr(model, HEAD_PREFIX)
    setattr(model, HEAD_PREFIX, nn.Identity())
    try:
        yield model
    finally:
        setattr(model, HEAD_PREFIX, head)


class FeatureCache:
    """The backbone stage of one run; ``reuse=False`` recomputes it every epoch (``off``)."""

    def __init__(self, model, batch_size, reuse=True, progress=None):
        self.model, self.batch_size, self.reuse = model, int(batch_size), reuse
        # progress(iterable, desc, total) -> iterable: the trainer's progress bar (or none)
        self.progress = progress or (lambda iterable, desc, total: iterable)
        self._train = None          # (features (N, F), targets (N,)) in dataset positions
        self._val = None            # [(features, targets) per validation batch]

    def backbone(self, x):
        """Features of a batch (the head's input), without building a graph."""
        with no_grad(), _headless(self.model) as headless:
            return np.ascontiguousarray(headless(x)._data)

    def train_arrays(self, dataset):
        """Features and targets of every training sample, from fixed chunks of the dataset."""
        if self._train is None or not self.reuse:
            n, chunks, targets = len(dataset), [], []
            starts = range(0, n, self.batch_size)
            for start in self.progress(starts, "features", len(starts)):
                x, y = dataset.get_batch(np.arange(start, min(start + self.batch_size, n)))
                chunks.append(self.backbone(Tensor(np.ascontiguousarray(x))))
                targets.append(np.asarray(y, dtype=np.int64))
            self._train = (np.concatenate(chunks), np.concatenate(targets))
        return self._train

    def batches(self, indices_per_batch, dataset):
        """(features Tensor, targets Tensor) for each batch of dataset positions."""
        features, targets = self.train_arrays(dataset)
        for idx in indices_per_batch:
            yield Tensor(features[idx]), Tensor(targets[idx])

    def val_batches(self, loader):
        """(features Tensor, targets Tensor) per validation batch, in the loader's fixed order."""
        if self._val is None or not self.reuse:
            self._val = [(self.backbone(x), np.asarray(y._data)) for x, y in loader]
        for features, targets in self._val:
            yield Tensor(features), Tensor(targets)
