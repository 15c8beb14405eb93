"""The linear-probe start of LP-FT (``train.head_init: linear_probe``): before the first epoch,
the new ``fc`` is fitted on the frozen backbone's features as a multinomial logistic regression
(``logistic.py``), then training goes on from that head.

- Features: the feature cache's rows when it caches the whole backbone of unaugmented data
  (epoch 1 then reuses them), otherwise one no-grad pass of the backbone in eval mode over the
  training split without augmentation, in fixed chunks of ``batch_size`` positions.
- The features are standardised (per-feature mean and std of the training split) so that one C
  grid fits any backbone; the L2 penalty is on the standardised weights, and the fitted head is
  folded back to act on the raw features: ``W = W_std / std``, ``b = b_std - W @ mean``.
- C is chosen among ``train.linear_probe.C`` by stratified ``folds``-fold cross-validation on
  the training split (seeded by ``seed``; the validation split is never looked at), then the
  head is refitted on the whole training split with it.

Only a fresh run does this: a resumed one has its head in the checkpoint.
"""
import time

import numpy as np

from minitorch.autograd.grad_mode import no_grad
from minitorch.data.dataset import Subset
from minitorch.tensor import Tensor

from ..freeze import HEAD_PREFIX, set_train_mode
from ..prefix_cache import RESNET_ORDER, frozen_prefix, run_children
from .logistic import cross_validate_C, fit_logistic

__all__ = ["probe_features", "fit_probe_head", "standardise"]


def _unaugmented(train_set):
    """The training split without its random augmentation (the same samples, in order)."""
    base = getattr(train_set, "dataset", None)
    plain = getattr(base, "without_augment", None)
    if isinstance(train_set, Subset) and plain is not None:
        return Subset(plain(), train_set.indices)
    return train_set


def probe_features(trainer):
    """(features (N, F) float32, targets (N,)) of the training split: the feature cache's rows
    when it caches the whole backbone of unaugmented data (epoch 1 then reuses them), else one
    no-grad pass in the fixed chunks of ``batch_size`` positions."""
    set_train_mode(trainer.model, trainer.plan, False)
    backbone = [n for n in RESNET_ORDER if n != HEAD_PREFIX]
    cache = trainer.feature_cache
    if cache is not None and cache.reuse and not cache.is_random:
        prefix = frozen_prefix(trainer.model, trainer.plan.frozen_bn)
        if prefix == backbone:
            cache.start_epoch(1, prefix)
            rows = cache.rows(np.arange(len(cache.dataset)))
            return rows.reshape(len(rows), -1), cache.targets
    data = _unaugmented(trainer.train_set)
    n, size = len(data), trainer.config.data.batch_size
    starts = range(0, n, size)
    features, targets = [], []
    for start in trainer._progress(starts, "features", len(starts)):
        x, y = data.get_batch(np.arange(start, min(start + size, n)))
        with no_grad():
            out = run_children(trainer.model, backbone, Tensor._new(np.ascontiguousarray(x)))
        features.append(out._data.reshape(len(x), -1))
        targets.append(np.asarray(y, dtype=np.int64))
    return np.concatenate(features), np.concatenate(targets)


def standardise(features):
    """(mean, std) per feature; a constant feature gets std 1."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def fit_probe_head(trainer):
    """Fit ``model.fc`` on the training features; returns a one-line summary."""
    start = time.perf_counter()
    features, targets = probe_features(trainer)
    settings = trainer.config.train.linear_probe
    X = features.astype(np.float64)
    mean, std = standardise(X)
    Z = (X - mean) / std
    k = trainer.num_classes
    C, scores = cross_validate_C(Z, targets, k, settings.C, settings.folds, trainer.config.seed)
    W_std, b_std = fit_logistic(Z, targets, k, C)
    W = W_std / std
    b = b_std - W @ mean
    head = getattr(trainer.model, HEAD_PREFIX)
    with no_grad():
        head.weight._data[...] = W.astype(np.float32)
        head.bias._data[...] = b.astype(np.float32)
    accuracy = float(((X @ W.T + b).argmax(axis=1) == targets).mean())
    return (f"linear probe: fc fitted on {len(targets)} training features ({X.shape[1]} each), "
            f"C={C:g} by {settings.folds}-fold cross-validation (held-out log-loss "
            f"{scores[C]:.4f}), train accuracy {accuracy:.4f}, "
            f"{time.perf_counter() - start:.1f} s")
