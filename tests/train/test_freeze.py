"""Freezing: which parameters and BatchNorm layers a freeze spec covers, BN kept in eval mode,
and an optimizer that must hold exactly the trainable parameters."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn, optim
from minitorch.train.errors import TrainerError
from minitorch.train.freeze import (apply_freeze, check_optimizer_coverage, parameter_counts,
                                    resolve_freeze, set_train_mode)
from models import resnet18


@pytest.fixture
def model():
    mt.manual_seed(0)
    return resnet18(num_classes=3, variant="small", width=4)


def test_backbone_freezes_everything_but_fc(model):
    plan = resolve_freeze(model, "backbone")
    apply_freeze(model, plan)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]
    assert "bn1" in plan.frozen_bn and "layer4.1.bn2" in plan.frozen_bn
    assert "layer2.0.downsample.1" in plan.frozen_bn
    n_train, t_train, n_frozen, t_frozen = parameter_counts(model)
    assert (n_train, t_train) == (32 * 3 + 3, 2)
    assert n_train + n_frozen == sum(p.detach().numpy().size for p in model.parameters())


def test_prefix_list_matches_whole_name_parts(model):
    plan = resolve_freeze(model, ["conv1", "bn1", "layer1"])
    apply_freeze(model, plan)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {n for n, _ in model.named_parameters()
                      if n.split(".")[0] in ("conv1", "bn1", "layer1")}
    assert plan.frozen_bn == ["bn1", "layer1.0.bn1", "layer1.0.bn2", "layer1.1.bn1",
                              "layer1.1.bn2"]


def test_none_unfreezes_everything(model):
    model.requires_grad_(False)
    apply_freeze(model, resolve_freeze(model, "none"))
    assert all(p.requires_grad for p in model.parameters())


def test_unknown_prefix_is_named_with_a_suggestion(model):
    with pytest.raises(TrainerError, match=r"prefix 'layr1' matches no .*did you mean 'layer1'"):
        resolve_freeze(model, ["layr1"])


def test_freezing_everything_is_refused(model):
    with pytest.raises(TrainerError, match="nothing would train"):
        apply_freeze(model, resolve_freeze(model, ["conv1", "bn1", "layer1", "layer2", "layer3",
                                                   "layer4", "fc"]))


def test_frozen_batchnorm_stays_in_eval_mode_and_its_statistics_do_not_move(model):
    plan = resolve_freeze(model, ["conv1", "bn1", "layer1"])
    apply_freeze(model, plan)
    before = {n: b.numpy().copy() for n, b in model.named_buffers()}
    set_train_mode(model, plan, True)
    assert not model.bn1.training and not model.layer1[0].bn2.training
    assert model.layer2[0].bn1.training and model.training
    opt = optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    x, y = mt.randn(4, 3, 8, 8), mt.tensor([0, 1, 2, 0])
    nn.CrossEntropyLoss()(model(x), y).backward()
    opt.step()
    after = dict(model.named_buffers())
    for name, value in before.items():
        moved = not np.array_equal(after[name].numpy(), value)
        assert moved == (name.startswith("layer2") or name.startswith("layer3")
                         or name.startswith("layer4")), name


def test_optimizer_coverage_refuses_frozen_and_missing_parameters(model):
    apply_freeze(model, resolve_freeze(model, "backbone"))
    with pytest.raises(TrainerError, match=r"holds 60 frozen parameter\(s\) \(conv1.weight"):
        check_optimizer_coverage(optim.SGD(model.parameters(), lr=0.1), model)
    with pytest.raises(TrainerError, match=r"misses 1 trainable parameter\(s\) \(fc.bias\)"):
        check_optimizer_coverage(optim.SGD([model.fc.weight], lr=0.1), model)
    assert check_optimizer_coverage(optim.SGD([model.fc.weight, model.fc.bias], lr=0.1),
                                    model) == 2
