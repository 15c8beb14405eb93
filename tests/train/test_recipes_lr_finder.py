"""The LR finder (--find-lr): an exponential sweep that stops at divergence, a suggestion, a
plot, and nothing else changed: weights, BatchNorm statistics and optimizer bitwise as before,
the run folder holding only find_lr.png."""
import numpy as np
import pytest

from minitorch.train.cli import finetune_main
from minitorch.train.config import config_from_dict
from minitorch.train.recipes.lr_finder import find_lr, lr_schedule, suggest_lr
from minitorch.train.trainer import Trainer
from tests.train.helpers import config_dict, make_weights, write_config


def _cfg(tmp_path, freeze, **train):
    weights = make_weights(tmp_path / "pretrained.h5")
    return config_dict(tmp_path / "run", weights=weights, model={"freeze": freeze},
                       train={"find_lr": {"steps": 30, "start_lr": 1e-4, "end_lr": 100.0},
                              **train})


def _state(trainer):
    return {k: v._data.copy() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize("freeze, feature_cache", [("none", "off"), ("backbone", "auto")])
def test_sweep_leaves_model_and_optimizer_untouched(tmp_path, capsys, freeze, feature_cache):
    cfg = config_from_dict(_cfg(tmp_path, freeze, feature_cache=feature_cache,
                                layer_lr={"fc": "x2"}))
    trainer = Trainer(cfg)
    before, opt_before = _state(trainer), trainer.optimizer.state_dict()
    result = find_lr(trainer)
    trainer.close()
    after = _state(trainer)
    assert before.keys() == after.keys()
    for k in before:
        assert before[k].tobytes() == after[k].tobytes(), k
    assert trainer.optimizer.state_dict() == opt_before   # no state, the same lrs
    assert all(p.grad is None for p in trainer.model.parameters())
    if feature_cache == "auto":   # the sweep ran on the cached backbone features
        assert trainer.feature_cache is not None and trainer.feature_cache.computed > 0
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["find_lr.png"]
    lrs = np.array(result["lrs"])
    assert np.allclose(lrs, lr_schedule(1e-4, 100.0, 30)[:len(lrs)])
    assert 1e-4 <= result["suggested"] <= lrs[-1]
    out = capsys.readouterr().out
    assert f"suggested lr: {result['suggested']:.2e} ({result['how']};" in out


def test_sweep_stops_once_the_loss_diverges(tmp_path):
    cfg = config_from_dict(_cfg(tmp_path, "none", find_lr={"steps": 60, "start_lr": 1e-3,
                                                           "end_lr": 1e4}))
    trainer = Trainer(cfg)
    result = find_lr(trainer)
    trainer.close()
    assert len(result["lrs"]) < 60   # an lr of 1e4 diverges long before the last step
    assert result["smoothed"][-1] > 4 * min(result["smoothed"]) or \
        not np.isfinite(result["losses"][-1])


def test_suggestion_is_the_steepest_descent_before_the_minimum():
    lrs = lr_schedule(1e-5, 1.0, 11)
    loss = np.array([2.0, 2.0, 1.99, 1.9, 1.5, 1.0, 0.9, 0.85, 0.84, 1.5, 3.0])
    steepest, how, min_div_10 = suggest_lr(lrs, loss)
    slopes = np.gradient(loss[1:9], np.log(lrs[1:9]))   # 10% skipped: the first point
    assert steepest == lrs[1 + int(np.argmin(slopes))] and steepest in (lrs[4], lrs[5])
    assert how.startswith("steepest descent")
    assert min_div_10 == pytest.approx(lrs[8] / 10)


def test_a_flat_loss_suggests_a_tenth_of_the_edge_of_stability():
    lrs = lr_schedule(1e-6, 1.0, 13)
    loss = np.array([0.02, 0.0203, 0.0199, 0.02, 0.0201, 0.0198, 0.02, 0.0202, 0.0205, 0.03,
                     0.06, 0.2, 1.0])
    suggested, how, _ = suggest_lr(lrs, loss)
    assert how.startswith("the loss is flat")
    assert suggested == pytest.approx(lrs[8] / 10)   # 0.0205 <= 1.05 x 0.0198; 0.03 is not


def test_cli_find_lr_writes_only_the_plot(tmp_path, capsys):
    config = write_config(tmp_path / "c.yaml", _cfg(tmp_path, "backbone",
                                                    feature_cache="auto"))
    assert finetune_main([str(config), "--find-lr"]) == 0
    assert "suggested lr:" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["find_lr.png"]


def test_cli_find_lr_with_resume_is_one_line(tmp_path, capsys):
    config = write_config(tmp_path / "c.yaml", _cfg(tmp_path, "backbone"))
    assert finetune_main([str(config), "--find-lr", "--resume", "auto"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--find-lr" in err and "--resume" in err
    assert not (tmp_path / "run").exists()


def test_sweep_with_an_epoch_1_unfreeze_puts_the_freezing_back(tmp_path):
    cfg = config_from_dict(_cfg(tmp_path, "backbone", feature_cache="auto",
                                unfreeze=[{"epoch": 1, "modules": ["layer4"]}]))
    trainer = Trainer(cfg)
    flags = [p.requires_grad for p in trainer.model.parameters()]
    before, cache = _state(trainer), trainer.feature_cache
    find_lr(trainer)
    trainer.close()
    assert [p.requires_grad for p in trainer.model.parameters()] == flags
    assert trainer.feature_cache is cache and not trainer.recipes.unfreeze.applied
    after = _state(trainer)
    assert all(before[k].tobytes() == after[k].tobytes() for k in before)
