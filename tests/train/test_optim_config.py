"""``train.optimizer`` (sgd, adam, adamw, rmsprop, adagrad, adadelta) and the new
``train.scheduler`` names: one clear line per bad value, the optimizer and schedule the trainer
builds, and an exact resume with each."""
import pytest

import minitorch as mt
from minitorch import optim
from minitorch.train import build
from minitorch.train.cli import finetune_main
from minitorch.train.config import ConfigError, config_from_dict
from minitorch.train.trainer import Trainer
from tests.train.helpers import (assert_bitwise_equal, checkpoint_arrays, config_dict,
                                 write_config)


def problems_of(train):
    with pytest.raises(ConfigError) as info:
        config_from_dict({"train": train})
    return info.value.problems


def cfg_with(optimizer=None, scheduler=None, epochs=6):
    return config_from_dict({"train": {"epochs": epochs, "optimizer": optimizer or {},
                                       "scheduler": scheduler or {}}})


@pytest.mark.parametrize("optimizer,kind,expected", [
    ({}, "SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.0, "nesterov": False,
                 "weight_decay": 0}),
    ({"name": "adamw", "lr": 1e-3}, "AdamW", {"lr": 1e-3, "weight_decay": 0.01,
                                               "betas": (0.9, 0.999), "eps": 1e-8}),
    ({"name": "adam", "betas": [0.8, 0.99], "amsgrad": True, "weight_decay": 1e-4}, "Adam",
     {"betas": (0.8, 0.99), "amsgrad": True, "weight_decay": 1e-4}),
    ({"name": "rmsprop", "alpha": 0.9, "centered": True}, "RMSprop",
     {"alpha": 0.9, "centered": True, "momentum": 0, "eps": 1e-8}),
    ({"name": "adagrad", "lr_decay": 0.01, "initial_accumulator_value": 0.1}, "Adagrad",
     {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-10}),
    ({"name": "adadelta", "lr": 1.0, "rho": 0.95}, "Adadelta", {"lr": 1.0, "rho": 0.95,
                                                                "eps": 1e-6}),
])
def test_config_builds_the_named_optimizer_with_torch_defaults(optimizer, kind, expected):
    from minitorch import tensor
    p = tensor([1.0, 2.0], requires_grad=True)
    opt = build.build_optimizer(cfg_with(optimizer), [p])
    assert type(opt) is getattr(optim, kind)
    group = opt.param_groups[0]
    for key, value in expected.items():
        assert group[key] == value, key


@pytest.mark.parametrize("optimizer,line", [
    ({"name": "adamm"}, "train.optimizer.name: must be one of 'sgd', 'adam', 'adamw', "
                        "'rmsprop', 'adagrad', 'adadelta', got 'adamm' (did you mean 'adam'?)"),
    ({"name": "adam", "betas": [0.9, 1.0]}, "train.optimizer.betas: must be < 1.0, got 1.0"),
    ({"name": "adam", "betas": [0.9]},
     "train.optimizer.betas: expected two numbers [beta1, beta2], got [0.9]"),
    ({"name": "adamw", "momentum": 0.9},
     "train.optimizer.momentum: not used by adamw (it applies to sgd, rmsprop); remove it or "
     "choose another optimizer"),
    ({"name": "sgd", "amsgrad": True},
     "train.optimizer.amsgrad: not used by sgd (it applies to adam, adamw); remove it or "
     "choose another optimizer"),
    ({"name": "adadelta", "rho": 1.5}, "train.optimizer.rho: must be <= 1.0, got 1.5"),
    ({"name": "rmsprop", "eps": -1.0}, "train.optimizer.eps: must be >= 0.0, got -1.0"),
    ({"nesterov": True, "momentum": 0.0},
     "train.optimizer.nesterov: needs momentum > 0 and dampening 0, got momentum 0.0 and "
     "dampening 0.0"),
])
def test_bad_optimizer_value_is_one_clear_line(optimizer, line):
    assert problems_of({"optimizer": optimizer}) == [line]


@pytest.mark.parametrize("train,line", [
    ({"scheduler": {"name": "onecycle", "warmup_epochs": 2}},
     "train.scheduler.warmup_epochs: onecycle warms up itself (pct_start); set it to 0"),
    ({"scheduler": {"name": "plateau", "warmup_epochs": 1}},
     "train.scheduler.warmup_epochs: plateau reacts to the metric, it cannot follow a fixed "
     "warmup; set it to 0"),
    ({"scheduler": {"name": "plateau", "gamma": 2.0}},
     "train.scheduler.gamma: plateau needs a factor < 1, got 2.0"),
    ({"optimizer": {"name": "adagrad"}, "scheduler": {"name": "onecycle"}},
     "train.scheduler.cycle_momentum: adagrad has no momentum or beta1 to cycle; set it to "
     "false"),
    ({"scheduler": {"name": "plateau", "monitor": "val_accuracy"}},
     "train.scheduler.monitor: must be one of 'val_loss', 'val_acc', got 'val_accuracy' (did "
     "you mean 'val_acc'?)"),
    ({"scheduler": {"name": "onecycle", "pct_start": 1.5}},
     "train.scheduler.pct_start: must be <= 1.0, got 1.5"),
])
def test_bad_scheduler_value_is_one_clear_line(train, line):
    assert problems_of(train) == [line]


@pytest.mark.parametrize("scheduler,kind", [
    ({"name": "exponential", "gamma": 0.9}, "ExponentialLR"),
    ({"name": "polynomial", "power": 2.0}, "PolynomialLR"),
    ({"name": "cosine_restarts", "T_0": 2, "T_mult": 2}, "CosineAnnealingWarmRestarts"),
    ({"name": "onecycle", "max_lr": 0.1}, "OneCycleLR"),
    ({"name": "plateau", "monitor": "val_acc"}, "ReduceLROnPlateau"),
    ({"name": "exponential", "warmup_epochs": 2}, "SequentialLR"),
])
def test_scheduler_names_build_torch_schedules(scheduler, kind):
    from minitorch import tensor
    config = cfg_with({"name": "adamw", "lr": 0.01}, scheduler)
    opt = build.build_optimizer(config, [tensor([1.0], requires_grad=True)])
    sched = build.build_scheduler(config, opt)
    assert type(sched).__name__ == kind
    if kind == "ReduceLROnPlateau":
        assert sched.mode == "max"  # val_acc: higher is better
    if kind == "OneCycleLR":
        assert sched.total_steps == 6 and opt.param_groups[0]["betas"][0] == 0.95


def test_plateau_steps_on_the_monitored_metric():
    from minitorch import tensor
    config = cfg_with(None, {"name": "plateau", "patience": 0, "monitor": "val_loss"})
    opt = build.build_optimizer(config, [tensor([1.0], requires_grad=True)])
    sched = build.build_scheduler(config, opt)
    for val_loss, val_acc in [(1.0, 0.5), (0.9, 0.4), (0.95, 0.9)]:
        build.step_scheduler(sched, config, {"val_loss": val_loss, "val_acc": val_acc})
    # Epoch 3's loss rose (its accuracy rose too, but the loss is watched): one reduction.
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)


RESUME_CASES = {
    "adamw_onecycle": ({"name": "adamw", "lr": 0.003, "weight_decay": 0.05},
                       {"name": "onecycle", "three_phase": True}),
    "adam_amsgrad_plateau_acc": ({"name": "adam", "lr": 0.003, "amsgrad": True},
                                 {"name": "plateau", "monitor": "val_acc", "patience": 0,
                                  "threshold": 0.5}),
    "rmsprop_restarts": ({"name": "rmsprop", "lr": 0.002, "momentum": 0.5, "centered": True},
                         {"name": "cosine_restarts", "T_0": 1, "T_mult": 2}),
    "adagrad_polynomial": ({"name": "adagrad", "lr": 0.05, "lr_decay": 0.01},
                           {"name": "polynomial", "warmup_epochs": 1}),
    "adadelta_exponential": ({"name": "adadelta", "lr": 1.0}, {"name": "exponential",
                                                               "gamma": 0.5}),
}


def _run_config(tmp_path, out, epochs, optimizer, scheduler):
    cfg = config_dict(out, train={"epochs": epochs, "optimizer": optimizer,
                                  "scheduler": scheduler, "feature_cache": "off"},
                      model={"num_classes": 2},
                      data={"classes": [5, 6], "image_size": 8, "val_fraction": 0.2,
                            "batch_size": 128})
    return write_config(tmp_path / f"config_{out.name}.yaml", cfg)


class _Stopped(BaseException):
    """Stands for a kill after epoch 1's checkpoint (nothing in the trainer catches it)."""


@pytest.mark.parametrize("name", list(RESUME_CASES))
def test_resume_with_each_optimizer_and_schedule_is_bitwise(tmp_path, name, monkeypatch):
    optimizer, scheduler = RESUME_CASES[name]
    ref = tmp_path / "ref"
    config_ref = _run_config(tmp_path, ref, 2, optimizer, scheduler)
    assert finetune_main([str(config_ref)]) == 0
    out = tmp_path / "resumed"
    config = _run_config(tmp_path, out, 2, optimizer, scheduler)
    original = Trainer._end_epoch

    def end_epoch_then_stop(self, record):
        original(self, record)
        if record["epoch"] == 1:
            raise _Stopped

    monkeypatch.setattr(Trainer, "_end_epoch", end_epoch_then_stop)
    with pytest.raises(_Stopped):
        finetune_main([str(config)])
    monkeypatch.setattr(Trainer, "_end_epoch", original)
    assert finetune_main([str(config), "--resume", "auto"]) == 0
    a, b = checkpoint_arrays(out / "last.h5"), checkpoint_arrays(ref / "last.h5")
    assert_bitwise_equal(a, b)
    # The schedule really moved the lr (the replayed part of it is what resume must get right).
    assert mt.load(ref / "last.h5")["optimizer"]["param_groups"][0]["lr"] != optimizer["lr"]
