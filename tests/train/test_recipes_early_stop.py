"""Early stopping (train.early_stopping) with ReduceLROnPlateau (train.scheduler.name: plateau):
the run stops when the metric stalls, and a run killed at any moment stops at the same epoch
with the same weights once resumed."""
import json
from pathlib import Path

import pytest

from minitorch.train.cli import finetune_main
from minitorch.train.config import config_from_dict
from minitorch.train.recipes import EarlyStopping
from tests.train.helpers import (assert_bitwise_equal, checkpoint_arrays, config_dict,
                                 make_weights, run_cli, write_config)

WORKER = Path(__file__).resolve().parent / "worker_kill.py"


def _config(tmp, out):
    # min_delta 1.0: no accuracy can improve by more, so after epoch 1 every epoch counts as
    # "no improvement" and patience 2 stops the run after epoch 3 of 6, whatever the numbers.
    weights = make_weights(tmp / "pretrained.h5")
    cfg = config_dict(out, weights=weights, data={"batch_size": 128},
                      train={"epochs": 6,
                             "scheduler": {"name": "plateau", "monitor": "val_loss",
                                           "patience": 0, "gamma": 0.5, "threshold": 0.5},
                             "early_stopping": {"metric": "val_acc", "patience": 2,
                                                "min_delta": 1.0}})
    return write_config(tmp / "config.yaml", cfg)


def _records(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("early_ref")
    out = tmp / "ref"
    assert finetune_main([str(_config(tmp, out))]) == 0
    return out


def test_the_run_stops_after_patience_epochs_without_improvement(reference):
    records = _records(reference)
    assert [r["epoch"] for r in records] == [1, 2, 3]
    # the plateau schedule halved the lr after each epoch whose val_loss did not improve by half
    lrs = [r["lr"] for r in records]
    assert lrs[0] == 0.05 and all(b in (a, a / 2) for a, b in zip(lrs, lrs[1:]))
    assert any(b == a / 2 for a, b in zip(lrs, lrs[1:]))


def test_a_finished_stopped_run_resumes_to_nothing(reference, capsys):
    before = (reference / "last.h5").read_bytes()
    config = reference.parent / "config.yaml"
    assert finetune_main([str(config), "--resume", "auto"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert (reference / "last.h5").read_bytes() == before


# 717 training samples / 128 = 6 steps per epoch.
@pytest.mark.parametrize("point, k, survivors", [
    ("step", 15, [1, 2]),       # inside epoch 3, the one that stops
    ("metrics", 3, [1, 2, 3]),  # epoch 3's line written, its checkpoint (and the stop) not
])
def test_killed_and_resumed_stops_at_the_same_epoch_with_the_same_weights(
        tmp_path, reference, point, k, survivors):
    out = tmp_path / "killed"
    config = _config(tmp_path, out)
    proc = run_cli([WORKER, point, str(k), config])
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert [r["epoch"] for r in _records(out)] == survivors
    assert finetune_main([str(config), "--resume", "auto"]) == 0
    assert [r["epoch"] for r in _records(out)] == [1, 2, 3]
    assert_bitwise_equal(checkpoint_arrays(out / "last.h5"),
                         checkpoint_arrays(reference / "last.h5"))


@pytest.mark.parametrize("mode, values, stop", [
    ("auto", [0.5, 0.6, 0.6, 0.6], 4),      # val_acc: max; 2 epochs without a gain
    ("auto", [0.5, 0.6, 0.65, 0.7], None),
    ("max", [0.5, 0.5005, 0.5008, 0.9], 3),  # gains under min_delta do not count
])
def test_early_stopping_rule(mode, values, stop):
    cfg = config_from_dict({"train": {"early_stopping": {"metric": "val_acc", "patience": 2,
                                                         "min_delta": 0.001, "mode": mode}}})
    rule = EarlyStopping(cfg.train.early_stopping)
    history = [{"epoch": i + 1, "val_acc": v} for i, v in enumerate(values)]
    stopped = [r["epoch"] for r in history if rule.update(r)]
    assert (stopped[0] if stopped else None) == stop
    assert EarlyStopping(cfg.train.early_stopping).replay(history) == (stop is not None)


def test_val_loss_is_watched_downwards():
    cfg = config_from_dict({"train": {"early_stopping": {"patience": 1}}})
    rule = EarlyStopping(cfg.train.early_stopping)
    assert not rule.update({"epoch": 1, "val_loss": 1.0})
    assert not rule.update({"epoch": 2, "val_loss": 0.9})
    assert rule.update({"epoch": 3, "val_loss": 0.95})
    assert "after epoch 3" in rule.message() and "best 0.9000 at epoch 2" in rule.message()
