"""The finetuning recipes' config keys (``train.unfreeze``, ``train.layer_lr``,
``train.layer_decay``, ``train.no_decay_norm_bias``, ``train.head_init``,
``train.linear_probe``, ``train.early_stopping``, ``train.find_lr``) and the rules tying them
to the rest of the config. What needs the model (do the prefixes name anything?) is checked
when the trainer is built, still before anything is written (``recipes/``).
"""
import re
from dataclasses import dataclass
from typing import List, Optional

from .config_schema import option

__all__ = ["UnfreezeStep", "LinearProbeConfig", "EarlyStoppingConfig", "FindLRConfig",
           "EARLY_STOPPING_METRICS", "parse_lr_value", "recipe_rules"]

EARLY_STOPPING_METRICS = ("val_loss", "val_acc", "train_loss", "train_acc")
_MULTIPLIER = re.compile(r"^\s*x\s*([+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*$")


@dataclass
class UnfreezeStep:
    epoch: int = option(1, "the epoch (from 1) at whose start these modules start training",
                        ge=1)
    modules: List[str] = option([], "parameter-name prefixes to unfreeze (e.g. [layer4])",
                                nonempty=True)
    lr_mult: float = option(1.0, "their lr: the lr the other keys give them (train.optimizer."
                            "lr, layer_lr, layer_decay) times this", gt=0.0)
    warmup_epochs: int = option(0, "epochs over which their lr ramps linearly up to it "
                                "(1/(n+1), 2/(n+1), ...)", ge=0)


@dataclass
class LinearProbeConfig:
    folds: int = option(5, "head_init linear_probe: folds of the cross-validation that picks C",
                        ge=2, le=100)
    C: List[float] = option([0.001, 0.01, 0.1, 1.0, 10.0, 100.0], "inverse L2 strengths tried "
                            "(scikit-learn's C: C x summed log-loss + half the squared norm "
                            "of W)", gt=0.0, nonempty=True)


@dataclass
class EarlyStoppingConfig:
    patience: Optional[int] = option(None, "stop after this many epochs without improvement "
                                     "(null: never stop early)", ge=1)
    metric: str = option("val_loss", "the metric watched", choices=EARLY_STOPPING_METRICS)
    mode: str = option("auto", "'min', 'max' or 'auto' (max for accuracies, min for losses)",
                       choices=("auto", "min", "max"))
    min_delta: float = option(0.0, "a change smaller than this is no improvement", ge=0.0)


@dataclass
class FindLRConfig:
    start_lr: float = option(1e-7, "--find-lr: the first lr of the exponential sweep", gt=0.0)
    end_lr: float = option(10.0, "--find-lr: the last lr", gt=0.0)
    steps: int = option(100, "--find-lr: training steps of the sweep", ge=5, le=100000)
    smoothing: float = option(0.98, "--find-lr: the loss's exponential smoothing factor",
                              ge=0.0, lt=1.0)
    diverge: float = option(4.0, "--find-lr: stop when the smoothed loss exceeds this times "
                            "its minimum", gt=1.0)


def parse_lr_value(value, base_lr):
    """A ``train.layer_lr`` value: a number is the lr, ``'x0.1'`` multiplies
    ``train.optimizer.lr``; None when the text is neither."""
    if not isinstance(value, str):
        return float(value)
    match = _MULTIPLIER.match(value)
    return None if match is None else float(match.group(1)) * base_lr


def _layer_lr_rule(cfg):
    for prefix, value in cfg.train.layer_lr.items():
        if not prefix:
            return "train.layer_lr: a prefix must not be empty"
        lr = parse_lr_value(value, cfg.train.optimizer.lr)
        if lr is None:
            return (f"train.layer_lr.{prefix}: expected an lr (e.g. 0.001) or a multiplier of "
                    f"train.optimizer.lr (e.g. 'x0.1'), got {value!r}")
        if not lr > 0:
            return f"train.layer_lr.{prefix}: the lr must be > 0, got {value!r}"
    return None


def _unfreeze_rule(cfg):
    epochs, seen = cfg.train.epochs, {}
    for i, step in enumerate(cfg.train.unfreeze):
        key = f"train.unfreeze[{i}]"
        if step.epoch > epochs:
            return (f"{key}.epoch: {step.epoch} is beyond the run (train.epochs is {epochs}): "
                    f"it would never unfreeze")
        for module in step.modules:
            if not module:
                return f"{key}.modules: a prefix must not be empty"
            if module in seen:
                return f"{key}.modules: {module!r} is already unfrozen by {seen[module]}"
            seen[module] = key
    return None


def _early_stopping_rule(cfg):
    es = cfg.train.early_stopping
    if es.mode == "min" and es.metric.endswith("_acc") or \
            es.mode == "max" and es.metric.endswith("_loss"):
        return (f"train.early_stopping.mode: {es.mode!r} for {es.metric} would stop on the best "
                f"epochs; use 'auto'")
    return None


def _find_lr_rule(cfg):
    f = cfg.train.find_lr
    if f.end_lr <= f.start_lr:
        return (f"train.find_lr.end_lr: must be above start_lr ({f.start_lr}), got "
                f"{f.end_lr}")
    return None


def recipe_rules():
    """(rule, keys it reads) pairs for the config's cross-key checks."""
    return ((_layer_lr_rule, ("train.layer_lr", "train.optimizer.lr")),
            (_unfreeze_rule, ("train.unfreeze", "train.epochs")),
            (_early_stopping_rule, ("train.early_stopping.metric",
                                    "train.early_stopping.mode")),
            (_find_lr_rule, ("train.find_lr.start_lr", "train.find_lr.end_lr")))
