"""The steps of an epoch: the trainer's training pass, its optimizer step and its validation.

``Trainer`` (trainer.py) inherits these; they read the run it built (model, loaders, optimizer,
criterion, feature cache, step guard) and add nothing to its state but ``global_step``.

Data parallelism (``mpiexec -n N``): ``sync_gradients`` is the one seam between backward and
the optimizer step; each rank reads its own shard of every global batch (the shards differ by at
most one sample, never padded), and each rank's gradient is that of the sum of its losses over
the global batch's sample count, so the summed gradient is the one-process mean's.
"""
import math

import numpy as np

import minitorch as mt
from minitorch.tensor import Tensor

from .freeze import set_train_mode
from .metrics import EpochMeter

__all__ = ["EpochLoop"]


class EpochLoop:
    """Training and validation passes of the ``Trainer`` (see the module docstring)."""

    def global_steps(self):
        """Steps per epoch: global batches of ``batch_size x world`` samples (the last one
        partial), the same on every rank."""
        per_step = self.config.data.batch_size * self.world
        return -(-len(self.train_set) // per_step)

    def _global_count(self, step):
        """Samples in global batch ``step`` (0-based) over all ranks."""
        per_step = self.config.data.batch_size * self.world
        return min(per_step, len(self.train_set) - step * per_step)

    def train_epoch(self, epoch):
        """One pass over this rank's shard: (mean loss, accuracy) over the global epoch."""
        batches, forward = self._train_batches(epoch)
        meter = EpochMeter()
        bar = self._progress(batches, f"epoch {epoch}/{self.config.train.epochs}")
        batch_iter, shape = iter(bar), None
        for step in range(self.global_steps()):
            x, y = next(batch_iter, (None, None))
            if x is None:   # this rank's shard ran out in the last, partial global batch
                x, y = _empty_batch(shape)
            shape = x.shape
            self._step_position = (epoch, step)
            logits, loss_sum = self.train_step(x, y, forward, self._global_count(step))
            meter.add(loss_sum, logits, y)
            bar.set_postfix(loss=f"{meter.loss:.4f}", acc=f"{meter.acc:.3f}", refresh=False)
        bar.close()
        return EpochMeter.means(self.grad_sync.reduce_metrics(meter.sums()))

    def _train_batches(self, epoch):
        """(batches, forward) of epoch ``epoch``'s training, the model in training mode (also
        the LR finder's, recipes/lr_finder.py)."""
        set_train_mode(self.model, self.plan, True)
        self.train_loader.set_epoch(epoch)
        if self.feature_cache is not None and self.feature_cache.active:
            # the frozen prefix runs apart (feature_cache.py): the rest trains on its rows
            return (self.feature_cache.batches(self.train_loader.batch_indices()),
                    self.feature_cache.suffix)
        return self.train_loader, self.forward

    def train_step(self, x, y, forward=None, global_count=None):
        """Forward, backward, gradient sync, optimizer step: (logits, sum of the batch's losses).

        ``forward`` is the model by default, the head alone on cached backbone features. Alone,
        the loss is the batch mean. Under data parallelism each rank's loss is the sum of its
        losses over ``global_count`` (the global batch's sample count) and the gradients are
        summed: the mean over the global batch whatever each rank's share of it. Before the
        backward pass the ranks agree that the loss is finite and no stop was requested."""
        logits = (forward or self.forward)(x)
        n = int(logits.shape[0])
        if self.world == 1:
            loss = self.criterion(logits, y)
            loss_sum = loss.item() * n
        else:
            summed = self.sum_criterion(logits, y)
            loss_sum = summed.item()
            loss = summed * (1.0 / global_count)
        epoch, step = getattr(self, "_step_position", (self.epoch + 1, None))
        self.guard.check(math.isfinite(loss_sum), epoch, step, self.global_steps(),
                         self.optimizer.param_groups[0]["lr"])
        self.optimizer.zero_grad()
        loss.backward()
        self.sync_gradients(self.trainable)
        self.optimizer.step()
        self.global_step += 1
        return logits._data, loss_sum

    def forward(self, x):
        """The whole model's forward (see feature_cache.py for the split prefix/rest)."""
        return self.model(x)

    def sync_gradients(self, params):
        """THE seam between backward and ``optimizer.step``: sum the gradients of ``params``
        across data-parallel ranks, each rank's loss being its share of the global batch mean
        (see train_step; a no-op in a single process)."""
        self.grad_sync.sync(params, op="sum")

    def evaluate(self, loader=None):
        """(val loss, val acc) over every rank's validation shard (or over ``loader``)."""
        set_train_mode(self.model, self.plan, False)
        batches, forward = loader or self.val_loader, self.model
        if loader is None and self.feature_cache is not None and self.feature_cache.active:
            batches = self.feature_cache.val_batches(self.val_loader)
            forward = self.feature_cache.suffix
        meter = EpochMeter()
        with mt.no_grad():
            for x, y in batches:
                logits = forward(x)
                meter.update(self.val_criterion(logits, y).item(), logits._data, y)
        # (a rank with no validation sample adds nothing: its meter stays at zero)
        return EpochMeter.means(self.grad_sync.reduce_metrics(meter.sums()))


def _empty_batch(shape):
    """A batch of no samples shaped like ``shape`` (the rank's previous batch): the rank still
    runs the step's forward, backward and collectives, adding zero to every sum."""
    x = Tensor._new(np.zeros((0,) + tuple(shape[1:]), dtype=np.float32))
    return x, Tensor._new(np.zeros(0, dtype=np.int64))
