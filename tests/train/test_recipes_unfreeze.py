"""Gradual unfreezing (train.unfreeze): the listed prefixes train from their epoch on and not
before, their BatchNorm layers leave eval mode with them, their lr warms up, and a run killed
on either side of the unfreezing resumes bitwise equal to one never interrupted."""
import json
from pathlib import Path

import numpy as np
import pytest

from minitorch.train.cli import finetune_main
from minitorch.train.config import config_from_dict
from minitorch.train.trainer import Trainer
from tests.train.helpers import (assert_bitwise_equal, checkpoint_arrays, config_dict,
                                 make_weights, run_cli, write_config)

WORKER = Path(__file__).resolve().parent / "worker_kill.py"


def _cfg(tmp_path, out, optimizer=None, **train):
    weights = make_weights(tmp_path / "pretrained.h5")
    return config_dict(out, weights=weights, data={"batch_size": 128},
                       train={"epochs": 3, "optimizer": optimizer or {"lr": 0.05,
                                                                      "momentum": 0.9},
                              "unfreeze": [{"epoch": 2, "modules": ["layer4"], "lr_mult": 0.5,
                                            "warmup_epochs": 1}], **train})


def _states_per_epoch(trainer):
    """Run ``trainer`` and keep a copy of the model's state dict after each epoch."""
    states, end = [], trainer._end_epoch

    def keep(record):
        states.append({k: v.numpy().copy() for k, v in trainer.model.state_dict().items()})
        end(record)
    trainer._end_epoch = keep
    trainer.fit()
    return states


def test_unfrozen_prefix_trains_from_its_epoch_only(tmp_path):
    cfg = config_from_dict(_cfg(tmp_path, tmp_path / "run"))
    trainer = Trainer(cfg)
    start = {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}
    warm_lrs, sched = [], []   # the groups' lrs during each epoch, and after its end hook
    epoch_start, epoch_end = trainer._on_epoch_start, trainer._on_epoch_end

    def record_lrs(epoch):
        epoch_start(epoch)
        warm_lrs.append([g["lr"] for g in trainer.optimizer.param_groups])

    def record_unwarmed(epoch, record):
        epoch_end(epoch, record)
        sched.append([g["lr"] for g in trainer.optimizer.param_groups])
    trainer._on_epoch_start, trainer._on_epoch_end = record_lrs, record_unwarmed
    after = _states_per_epoch(trainer)
    layer4 = [k for k in start if k.startswith("layer4.")]
    layer4_bn_stats = [k for k in layer4 if "running_" in k]
    assert layer4 and layer4_bn_stats
    # epoch 1: only fc moved; layer4's weights and BN statistics are the pretrained ones
    for k in start:
        moved = not np.array_equal(start[k], after[0][k])
        assert moved == k.startswith("fc."), k
    # epochs 2 and 3: layer4 trains too (weights and, in training mode, its BN statistics)
    for k in layer4:
        if k.endswith("num_batches_tracked"):
            continue
        assert not np.array_equal(after[0][k], after[1][k]), k
        assert not np.array_equal(after[1][k], after[2][k]), k
    for k in start:   # everything under layer1..3 and the stem stays frozen throughout
        if not k.startswith(("layer4.", "fc.")):
            assert np.array_equal(start[k], after[2][k]), k
    # layer4's groups: lr x0.5 and, in epoch 2, half of it again (warm-up over 1 epoch)
    groups = trainer.optimizer.param_groups
    fc = [i for i, g in enumerate(groups) if g["unfreeze_step"] < 0]
    l4 = [i for i, g in enumerate(groups) if g["unfreeze_step"] == 0]
    assert fc and l4
    assert warm_lrs[0][l4[0]] == pytest.approx(0.5 * warm_lrs[0][fc[0]])
    assert warm_lrs[1][l4[0]] == pytest.approx(0.25 * warm_lrs[1][fc[0]])
    assert warm_lrs[2][l4[0]] == pytest.approx(0.5 * warm_lrs[2][fc[0]])
    assert sched[1][l4[0]] == warm_lrs[1][l4[0]] * 2   # the factor is off again afterwards


def test_unfreeze_shrinks_the_cached_prefix_when_layer4_trains(tmp_path):
    cfg = config_from_dict(_cfg(tmp_path, tmp_path / "run", feature_cache="auto"))
    trainer = Trainer(cfg)
    assert trainer.feature_cache is not None   # epoch 1: only fc trains, nothing random
    trainer.fit()
    # from epoch 2 layer4 trains: the cache holds layer3's output, no longer avgpool's
    assert trainer.feature_cache.prefix == ["conv1", "bn1", "relu", "maxpool", "layer1",
                                            "layer2", "layer3"]


def _epochs(out):
    return [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text()
            .splitlines()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unfreeze_ref")
    out = tmp / "ref"
    config = write_config(tmp / "config.yaml", _adamw_cfg(tmp, out))
    assert finetune_main([str(config)]) == 0
    return out


def _adamw_cfg(tmp, out):
    # AdamW with per-layer decay and no decay on norms/biases: every recipe's group at once.
    return _cfg(tmp, out, optimizer={"name": "adamw", "lr": 0.01, "weight_decay": 0.05},
                layer_decay=0.5, no_decay_norm_bias=True)


# 717 training samples / 128 = 6 steps per epoch.
@pytest.mark.parametrize("point, k, survivors", [
    ("step", 9, [1]),         # inside epoch 2, the first unfrozen epoch
    ("metrics", 2, [1, 2]),   # epoch 2 finished, its checkpoint not yet written
    ("step", 15, [1, 2]),     # inside epoch 3, after the unfreezing
])
def test_killed_and_resumed_across_the_unfreezing_is_bitwise_equal(tmp_path, reference, point,
                                                                    k, survivors):
    out = tmp_path / "killed"
    config = write_config(tmp_path / "config.yaml", _adamw_cfg(tmp_path, out))
    proc = run_cli([WORKER, point, str(k), config])
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert _epochs(out) == survivors
    assert finetune_main([str(config), "--resume", "auto"]) == 0
    assert _epochs(out) == [1, 2, 3]
    assert_bitwise_equal(checkpoint_arrays(out / "last.h5"),
                         checkpoint_arrays(reference / "last.h5"))
