"""The learning-rate range test (``minitorch-finetune CONFIG --find-lr``), as Leslie Smith's and
fastai's ``lr_find``.

From the run's starting point (the model, param groups and data of the run's first epoch, over
and over, on the cached backbone features when the run would use them), ``train.find_lr.steps``
training steps raise the lr exponentially from ``start_lr`` to ``end_lr`` (every param group
keeps its ratio to ``train.optimizer.lr``: per-layer lrs sweep together). The loss is smoothed
exponentially (debiased, as fastai does) and the sweep stops early once the smoothed loss
exceeds ``diverge`` times its minimum, or is not finite.

The suggestion is the lr of the steepest descent of the smoothed loss against log(lr), before
its minimum (or, when the loss is flat, the largest lr that keeps it within 5% of its minimum,
/ 10: see ``suggest_lr``); the minimum's lr / 10 is printed too. Afterwards the model (weights and BatchNorm
statistics), the optimizer and every RNG are put back bitwise as they were, and the run folder
holds only ``find_lr.png``.
"""
import copy
import math
import os

import numpy as np

from minitorch.autograd.grad_mode import no_grad
from minitorch.io import capture_rng_state, restore_rng_state

from ..errors import TrainerError, writing
from ..plots import _figure, _save

__all__ = ["find_lr", "lr_schedule", "suggest_lr", "PLOT_NAME"]

PLOT_NAME = "find_lr.png"


def lr_schedule(start, end, steps):
    """``steps`` lrs from ``start`` to ``end``, evenly spaced in log(lr)."""
    return start * (end / start) ** (np.arange(steps) / max(steps - 1, 1))


def suggest_lr(lrs, smoothed, skip_start=None, flat=0.05):
    """(suggested lr, how it was chosen, the minimum's lr / 10) of a sweep.

    The suggestion is the steepest descent of the smoothed loss against log(lr), between the
    first ``skip_start`` points (10% of them by default: the smoothing's start-up) and the
    minimum. When the loss falls by less than ``flat`` (relative) over that stretch there is no
    descent to speak of (a model at a minimum already, e.g. after a linear probe): then the
    largest lr whose loss stays within ``flat`` of the minimum, / 10.
    """
    lrs, smoothed = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    lowest = int(np.argmin(smoothed))
    min_div_10 = float(lrs[lowest] / 10)
    first = min(len(lrs) // 10 if skip_start is None else skip_start, lowest)
    drop = smoothed[first] - smoothed[lowest]
    if lowest - first >= 2 and drop > flat * abs(smoothed[first]):
        window = slice(first, lowest + 1)
        slopes = np.gradient(smoothed[window], np.log(lrs[window]))
        return (float(lrs[first + int(np.argmin(slopes))]), "steepest descent of the smoothed "
                "loss", min_div_10)
    stable = np.flatnonzero(smoothed <= (1 + flat) * smoothed[lowest])
    edge = int(stable[-1])
    return (float(lrs[edge] / 10), f"the loss is flat: the largest lr within "
            f"{flat:.0%} of its minimum, / 10", min_div_10)


def _batches(trainer):
    """(forward, x, y) of the run's first epoch, over and over for as long as the sweep runs:
    the batches (cached features or images) and the trainable parts of epoch 1."""
    trainer._on_epoch_start(1)   # what epoch 1 unfreezes, the cache's view of epoch 1
    while True:
        batches, forward = trainer._train_batches(1)
        for x, y in batches:
            yield forward, x, y


class _Snapshot:
    """The model's state, the optimizer's and the RNGs', to put back after the sweep."""

    # what an epoch start may change (an unfreeze step at epoch 1 trains more, drops the cache)
    _ATTRIBUTES = ("plan", "trainable", "feature_cache", "cache_note")

    def __init__(self, trainer):
        self.model = {k: v._data.copy() for k, v in trainer.model.state_dict().items()}
        self.flags = [p.requires_grad for p in trainer.model.parameters()]
        self.optimizer = copy.deepcopy(trainer.optimizer.state_dict())
        self.rng = capture_rng_state()
        self.attributes = {a: getattr(trainer, a) for a in self._ATTRIBUTES}
        self.applied = set(trainer.recipes.unfreeze.applied)

    def restore(self, trainer):
        with no_grad():
            for k, v in trainer.model.state_dict().items():
                v._data[...] = self.model[k]
        for p, flag in zip(trainer.model.parameters(), self.flags):
            p.requires_grad_(flag)
        trainer.optimizer.zero_grad()
        trainer.optimizer.load_state_dict(copy.deepcopy(self.optimizer))
        restore_rng_state(self.rng)
        for name, value in self.attributes.items():
            setattr(trainer, name, value)
        trainer.recipes.unfreeze.applied = self.applied
        trainer.recipes.drop_warmup()   # the optimizer's lrs came back with its state


def _sweep(trainer, settings):
    base = trainer.config.train.optimizer.lr
    groups = trainer.optimizer.param_groups
    ratios = [g.get("initial_lr", g["lr"]) / base for g in groups]
    lrs, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    batches = _batches(trainer)
    for i, lr in enumerate(lr_schedule(settings.start_lr, settings.end_lr, settings.steps)):
        forward, x, y = next(batches)
        for group, ratio in zip(groups, ratios):
            group["lr"] = float(lr) * ratio
        loss = trainer.criterion(forward(x), y)
        value = loss.item()
        if not math.isfinite(value):
            break
        average = settings.smoothing * average + (1 - settings.smoothing) * value
        debiased = average / (1 - settings.smoothing ** (i + 1))
        lrs.append(float(lr))
        losses.append(value)
        smoothed.append(debiased)
        if debiased > settings.diverge * best:
            break
        best = min(best, debiased)
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.sync_gradients(trainer.trainable)
        trainer.optimizer.step()
    return lrs, losses, smoothed


def _plot(lrs, losses, smoothed, steepest, path):
    fig = _figure(6, 4)
    ax = fig.subplots()
    ax.plot(lrs, losses, alpha=0.3, label="loss")
    ax.plot(lrs, smoothed, label="smoothed loss")
    ax.axvline(steepest, color="tab:red", linestyle="--", label=f"suggested {steepest:.2g}")
    ax.set_xscale("log")
    # the smoothed curve sets the scale: the raw loss's last, diverging steps would flatten it
    low, high = min(smoothed), max(smoothed)
    ax.set_ylim(low - 0.1 * (high - low) - 1e-3, high + 0.2 * (high - low) + 1e-3)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate range test")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, path)


def find_lr(trainer):
    """Sweep, plot ``find_lr.png`` into the run folder, print the suggestion and put the model
    and optimizer back; returns {"lrs", "losses", "smoothed", "suggested", "min_div_10"}."""
    settings = trainer.config.train.find_lr
    snapshot = _Snapshot(trainer)
    try:
        trainer._on_run_start()   # e.g. the linear-probe head the run would start from
        lrs, losses, smoothed = _sweep(trainer, settings)
    finally:
        snapshot.restore(trainer)
    if len(lrs) < 2:
        raise TrainerError(f"--find-lr: the loss was not finite from the first steps "
                           f"(train.find_lr.start_lr {settings.start_lr}): nothing to suggest")
    steepest, how, min_div_10 = suggest_lr(lrs, smoothed)
    path = os.path.join(trainer.out_dir, PLOT_NAME)
    if trainer.is_main:
        with writing(trainer.out_dir):
            os.makedirs(trainer.out_dir, exist_ok=True)
        trainer._lock()
        with writing(path):
            _plot(lrs, losses, smoothed, steepest, path)
    where = "stopped at divergence" if len(lrs) < settings.steps else "ran every step"
    trainer._say(f"lr finder: {len(lrs)} steps from {lrs[0]:.1e} to {lrs[-1]:.1e} ({where}); "
                 f"plot: {path}")
    trainer._say(f"suggested lr: {steepest:.2e} ({how}; the minimum's lr / 10 is "
                 f"{min_div_10:.2e})")
    return {"lrs": lrs, "losses": losses, "smoothed": smoothed, "suggested": steepest,
            "how": how, "min_div_10": min_div_10}
