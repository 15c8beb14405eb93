"""Per-layer learning rates (train.layer_lr, train.layer_decay), no weight decay on norms and
biases, with SGD and AdamW; and the one-line errors of prefixes that name nothing."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.train.cli import finetune_main
from minitorch.train.config import config_from_dict
from minitorch.train.errors import TrainerError
from minitorch.train.trainer import Trainer
from tests.train.helpers import config_dict, make_weights, snapshot, write_config


def _trainer(tmp_path, freeze="none", optimizer=None, **train):
    weights = make_weights(tmp_path / "pretrained.h5")
    cfg = config_dict(tmp_path / "run", weights=weights, model={"freeze": freeze},
                      train={"optimizer": optimizer or {"lr": 0.1, "momentum": 0.9}, **train})
    return Trainer(config_from_dict(cfg))


def _lr_of(trainer):
    """{parameter name: (lr, weight_decay)} from the optimizer's groups."""
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    return {names[id(p)]: (g["lr"], g["weight_decay"]) for g in trainer.optimizer.param_groups
            for p in g["params"]}


def test_layer_decay_scales_lr_by_depth_from_the_head(tmp_path):
    t = _trainer(tmp_path, layer_decay=0.5)
    lrs = _lr_of(t)
    depth = {"fc": 0, "layer4": 1, "layer3": 2, "layer2": 3, "layer1": 4, "conv1": 5, "bn1": 5}
    assert len(lrs) == len(list(t.model.parameters()))   # every parameter, once
    for name, (lr, _) in lrs.items():
        assert lr == pytest.approx(0.1 * 0.5 ** depth[name.split(".")[0]]), name
    t.close()


def test_layer_lr_numbers_and_multipliers_longest_prefix_wins(tmp_path):
    t = _trainer(tmp_path, layer_lr={"layer4": 0.003, "layer4.1": "x0.2", "fc": "x10"},
                 layer_decay=0.5)
    lrs = _lr_of(t)
    assert lrs["layer4.0.conv1.weight"][0] == 0.003
    assert lrs["layer4.1.conv2.weight"][0] == pytest.approx(0.02)   # the longer prefix
    assert lrs["fc.weight"][0] == pytest.approx(1.0)
    assert lrs["layer3.0.conv1.weight"][0] == pytest.approx(0.1 * 0.25)   # layer_decay
    t.close()


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "lr": 0.1, "weight_decay": 0.01},
                                       {"name": "adamw", "lr": 0.1}])
def test_no_decay_on_norms_and_biases(tmp_path, optimizer):
    t = _trainer(tmp_path, optimizer=optimizer, no_decay_norm_bias=True)
    decay = 0.01
    for name, (_, wd) in _lr_of(t).items():
        p = dict(t.model.named_parameters())[name]
        assert wd == (0.0 if p.ndim <= 1 else decay), name
    # The optimizer really decays only the others: one step with zero gradients.
    before = {n: p.detach().numpy().copy() for n, p in t.model.named_parameters()}
    for p in t.model.parameters():
        p.grad = mt.zeros(*p.shape)
    t.optimizer.step()
    for name, p in t.model.named_parameters():
        unchanged = np.array_equal(before[name], p.detach().numpy())
        assert unchanged == (p.ndim <= 1 or not before[name].any()), name
    t.close()


def test_the_summary_lists_the_groups(tmp_path):
    t = _trainer(tmp_path, layer_lr={"fc": 0.5})
    text = "\n".join(t.summary_lines())
    assert "param groups:" in text and "lr 0.5" in text and "fc.weight" in text
    t.close()


@pytest.mark.parametrize("train, message", [
    ({"layer_lr": {"lyer3": 0.1}}, "train.layer_lr: prefix 'lyer3' matches no parameter of "
                                   "the model (did you mean 'layer3'?)"),
    ({"layer_lr": {"layer2": 0.1}}, "train.layer_lr: prefix 'layer2' matches only frozen "
                                    "parameters"),
    ({"unfreeze": [{"epoch": 2, "modules": ["layr4"]}]},
     "train.unfreeze[0].modules: 'layr4' names no module or parameter of the model (did you "
     "mean 'layer4'?)"),
    ({"unfreeze": [{"epoch": 2, "modules": ["fc"]}]},
     "train.unfreeze[0].modules: 'fc' is not frozen"),
])
def test_prefixes_that_name_nothing_are_one_line(tmp_path, train, message):
    with pytest.raises(TrainerError) as info:
        _trainer(tmp_path, freeze="backbone", **train)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("overrides, message", [
    (["train.unfreeze=[{epoch: 2, modules: [layr4]}]"], "did you mean 'layer4'?"),
    (["train.unfreeze=[{epoch: 9, modules: [layer4]}]"], "train.unfreeze[0].epoch: 9 is beyond "
                                                         "the run (train.epochs is 2)"),
    (["train.layer_lr={nothing: 0.1}"], "train.layer_lr: prefix 'nothing' matches no"),
    (["train.layer_decay=0"], "train.layer_decay: must be > 0.0, got 0.0"),
    (["train.layer_decay=1.5"], "train.layer_decay: must be <= 1.0, got 1.5"),
    (["train.layer_lr={fc: fast}"], "train.layer_lr.fc: expected an lr (e.g. 0.001) or a "
                                    "multiplier"),
    (["train.early_stopping.metric=val_accuracy"], "did you mean 'val_acc'?"),
])
def test_cli_bad_recipe_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, overrides,
                                                                 message):
    weights = make_weights(tmp_path / "pretrained.h5")
    out = tmp_path / "run"
    config = write_config(tmp_path / "c.yaml", config_dict(out, weights=weights))
    args = [str(config)] + [a for o in overrides for a in ("--set", o)]
    assert finetune_main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert snapshot(out) is None
