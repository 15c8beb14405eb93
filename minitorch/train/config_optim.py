"""The ``train.optimizer`` and ``train.scheduler`` sections of the finetuning config, and the
rules tying their keys together.

``train.optimizer.name`` picks one of ``torch.optim``'s optimizers; each key says which ones
use it (``OPTIMIZER_KEYS``), a key set for an optimizer that does not use it is an error (it
would otherwise be silently ignored), and ``null`` means PyTorch's default for the chosen
optimizer (``momentum``: 0.9 for sgd, as this tool always had, 0 for rmsprop).
"""
from dataclasses import dataclass, fields
from typing import List, Optional

from .config_schema import option

__all__ = ["OptimizerConfig", "SchedulerConfig", "OPTIMIZER_KEYS", "OPTIMIZER_CLASSES",
           "SGD_MOMENTUM", "optimizer_rules", "scheduler_rules"]

# name -> the torch.optim class, and the config keys (besides lr) that class takes.
OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                     "adagrad": "Adagrad", "adadelta": "Adadelta"}
OPTIMIZER_KEYS = {
    "sgd": ("momentum", "dampening", "weight_decay", "nesterov"),
    "adam": ("betas", "eps", "weight_decay", "amsgrad"),
    "adamw": ("betas", "eps", "weight_decay", "amsgrad"),
    "rmsprop": ("alpha", "eps", "weight_decay", "momentum", "centered"),
    "adagrad": ("lr_decay", "eps", "weight_decay", "initial_accumulator_value"),
    "adadelta": ("rho", "eps", "weight_decay"),
}
SGD_MOMENTUM = 0.9  # train.optimizer.momentum: null with sgd


@dataclass
class OptimizerConfig:
    name: str = option("sgd", "optimizer (torch.optim's SGD, Adam, AdamW, RMSprop, Adagrad, "
                       "Adadelta)", choices=tuple(OPTIMIZER_CLASSES))
    lr: float = option(0.01, "learning rate", gt=0.0)
    momentum: Optional[float] = option(None, "sgd, rmsprop: momentum (null: 0.9 for sgd, 0 for "
                                       "rmsprop)", ge=0.0)
    weight_decay: Optional[float] = option(None, "weight decay: L2 added to the gradients; "
                                           "adamw: decoupled (null: 0.01 for adamw, else 0)",
                                           ge=0.0)
    nesterov: bool = option(False, "sgd: Nesterov momentum (needs momentum > 0, dampening 0)")
    dampening: float = option(0.0, "sgd: momentum dampening", ge=0.0, le=1.0)
    betas: Optional[List[float]] = option(None, "adam, adamw: [beta1, beta2], each in [0, 1) "
                                          "(null: [0.9, 0.999])", ge=0.0, lt=1.0)
    eps: Optional[float] = option(None, "adam, adamw, rmsprop, adagrad, adadelta: term added "
                                  "to the denominator (null: PyTorch's default for the "
                                  "optimizer)", ge=0.0)
    amsgrad: bool = option(False, "adam, adamw: use the running maximum of the second moment")
    alpha: float = option(0.99, "rmsprop: smoothing constant of the squared-gradient average",
                          ge=0.0)
    centered: bool = option(False, "rmsprop: normalise by the gradient's estimated variance")
    lr_decay: float = option(0.0, "adagrad: lr decay per step", ge=0.0)
    initial_accumulator_value: float = option(0.0, "adagrad: starting value of the squared-"
                                              "gradient sums", ge=0.0)
    rho: float = option(0.9, "adadelta: smoothing constant of the running averages", ge=0.0,
                        le=1.0)


SCHEDULER_NAMES = ("none", "step", "multistep", "cosine", "exponential", "polynomial",
                   "cosine_restarts", "onecycle", "plateau")


@dataclass
class SchedulerConfig:
    name: str = option("none", "learning-rate schedule, stepped once per epoch (plateau: on "
                       "the validation metric)", choices=SCHEDULER_NAMES)
    step_size: int = option(10, "step: epochs between decays", ge=1)
    gamma: float = option(0.1, "step/multistep/exponential: decay factor; plateau: factor the "
                          "lr is multiplied by (< 1)", gt=0.0)
    milestones: List[int] = option([], "multistep: epochs at which to decay (increasing)", ge=1)
    warmup_epochs: int = option(0, "epochs of linear warmup before the schedule (not with "
                                "onecycle or plateau)", ge=0)
    eta_min: float = option(0.0, "cosine, cosine_restarts: the lowest lr", ge=0.0)
    T_0: int = option(10, "cosine_restarts: epochs of the first cosine cycle", ge=1)
    T_mult: int = option(1, "cosine_restarts: each cycle is this many times longer", ge=1)
    power: float = option(1.0, "polynomial: power of the decay to 0 at the last epoch", gt=0.0)
    max_lr: Optional[float] = option(None, "onecycle: the peak lr (null: train.optimizer.lr)",
                                     gt=0.0)
    pct_start: float = option(0.3, "onecycle: fraction of the epochs spent warming up",
                              ge=0.0, le=1.0)
    anneal_strategy: str = option("cos", "onecycle: annealing shape",
                                  choices=("cos", "linear"))
    three_phase: bool = option(False, "onecycle: warm up, come back down, then anneal")
    div_factor: float = option(25.0, "onecycle: the start lr is max_lr / div_factor", gt=0.0)
    final_div_factor: float = option(1e4, "onecycle: the last lr is the start lr / this",
                                     gt=0.0)
    cycle_momentum: bool = option(True, "onecycle: cycle momentum (sgd, rmsprop) or beta1 "
                                  "(adam, adamw) inversely to the lr, 0.95 -> 0.85 -> 0.95")
    monitor: str = option("val_loss", "plateau: the metric watched (val_loss: lower is "
                          "better; val_acc: higher is better)", choices=("val_loss", "val_acc"))
    patience: int = option(10, "plateau: epochs without improvement before reducing", ge=0)
    threshold: float = option(1e-4, "plateau: how much better counts as an improvement",
                              ge=0.0)
    threshold_mode: str = option("rel", "plateau: threshold relative to the best ('rel') or "
                                 "absolute ('abs')", choices=("rel", "abs"))
    cooldown: int = option(0, "plateau: epochs after a reduction before counting again", ge=0)
    min_lr: float = option(0.0, "plateau: the lr never goes below this", ge=0.0)


_OPTIMIZER_DEFAULTS = {f.name: f.default for f in fields(OptimizerConfig)}


def _unused_optimizer_keys(cfg):
    """A key the chosen optimizer does not take, set to something else than its default."""
    opt = cfg.train.optimizer
    used = OPTIMIZER_KEYS[opt.name]
    for key in OPTIMIZER_KEYS["sgd"] + OPTIMIZER_KEYS["adam"] + OPTIMIZER_KEYS["rmsprop"] \
            + OPTIMIZER_KEYS["adagrad"] + OPTIMIZER_KEYS["adadelta"]:
        if key not in used and getattr(opt, key) != _OPTIMIZER_DEFAULTS[key]:
            users = [n for n, keys in OPTIMIZER_KEYS.items() if key in keys]
            return (f"train.optimizer.{key}: not used by {opt.name} (it applies to "
                    f"{', '.join(users)}); remove it or choose another optimizer")
    return None


def _nesterov_rule(cfg):
    opt = cfg.train.optimizer
    momentum = SGD_MOMENTUM if opt.momentum is None else opt.momentum
    if opt.nesterov and (momentum <= 0 or opt.dampening != 0):
        return ("train.optimizer.nesterov: needs momentum > 0 and dampening 0, got "
                f"momentum {momentum} and dampening {opt.dampening}")
    return None


def _betas_rule(cfg):
    betas = cfg.train.optimizer.betas
    if betas is not None and len(betas) != 2:
        return f"train.optimizer.betas: expected two numbers [beta1, beta2], got {betas}"
    return None


def _milestones_rule(cfg):
    sched = cfg.train.scheduler
    if sched.name == "multistep" and not sched.milestones:
        return "train.scheduler.milestones: required when train.scheduler.name is 'multistep'"
    if any(b <= a for a, b in zip(sched.milestones, sched.milestones[1:])):
        return f"train.scheduler.milestones: must be increasing, got {sched.milestones}"
    return None


def _scheduler_combination_rule(cfg):
    sched, opt = cfg.train.scheduler, cfg.train.optimizer
    if sched.warmup_epochs and sched.name in ("onecycle", "plateau"):
        why = "onecycle warms up itself (pct_start)" if sched.name == "onecycle" \
            else "plateau reacts to the metric, it cannot follow a fixed warmup"
        return f"train.scheduler.warmup_epochs: {why}; set it to 0"
    if sched.name == "plateau" and sched.gamma >= 1:
        return f"train.scheduler.gamma: plateau needs a factor < 1, got {sched.gamma}"
    if sched.name == "onecycle" and sched.cycle_momentum and opt.name in ("adagrad",
                                                                         "adadelta"):
        return (f"train.scheduler.cycle_momentum: {opt.name} has no momentum or beta1 to "
                f"cycle; set it to false")
    return None


def optimizer_rules():
    """(rule, keys it reads) pairs for the config's cross-key checks."""
    keys = tuple(f"train.optimizer.{f.name}" for f in fields(OptimizerConfig))
    return ((_unused_optimizer_keys, keys),
            (_nesterov_rule, ("train.optimizer.nesterov", "train.optimizer.momentum",
                              "train.optimizer.dampening")),
            (_betas_rule, ("train.optimizer.betas",)))


def scheduler_rules():
    return ((_milestones_rule, ("train.scheduler.name", "train.scheduler.milestones")),
            (_scheduler_combination_rule, ("train.scheduler.name",
                                           "train.scheduler.warmup_epochs",
                                           "train.scheduler.gamma",
                                           "train.scheduler.cycle_momentum",
                                           "train.optimizer.name")))
