"""ResNet-18 against PyTorch's numbers stored in tests/fixtures/resnet18_parity.h5 (made by
scripts/fixtures_resnet.py): eval logits, train-mode loss, every parameter gradient, the input
gradient and the BatchNorm statistics after a train step. No PyTorch needed."""
import pathlib

import h5py
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from models import resnet18

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "resnet18_parity.h5"
CASES = {"small": ("small", 8, 5), "imagenet": ("imagenet", 8, 10)}


def rel_err(ours, theirs):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-12)


def load_case(name):
    variant, width, num_classes = CASES[name]
    with h5py.File(FIXTURE, "r") as f:
        g = f[name]
        case = {sub: read_group(g[sub]) for sub in ("state", "grad", "after")}
        for key in ("x", "target", "logits", "loss", "x_grad"):
            case[key] = g[key][()]
    model = resnet18(num_classes=num_classes, variant=variant, width=width)
    model.load_state_dict(case["state"])
    return model, case


def read_group(group):
    """The datasets of a fixture group as {dotted name: array} (names are stored flat)."""
    return {name: group[name][()] for name in group}


@pytest.mark.parametrize("name", list(CASES))
def test_eval_logits_match_pytorch(name):
    model, case = load_case(name)
    model.eval()
    with mt.no_grad():
        logits = model(mt.tensor(case["x"]))
    assert rel_err(logits.detach().numpy(), case["logits"]) < 1e-4


@pytest.mark.parametrize("name", list(CASES))
def test_train_step_loss_gradients_and_bn_stats_match_pytorch(name):
    model, case = load_case(name)
    model.train()
    x = mt.tensor(case["x"], requires_grad=True)
    loss = F.cross_entropy(model(x), mt.tensor(case["target"]))
    assert rel_err(loss.detach().numpy(), case["loss"]) < 1e-4
    loss.backward()
    assert rel_err(x.grad.detach().numpy(), case["x_grad"]) < 2e-3
    params = dict(model.named_parameters())
    assert set(params) == set(case["grad"])
    worst = max(rel_err(params[k].grad.detach().numpy(), g) for k, g in case["grad"].items())
    assert worst < 2e-3
    buffers = dict(model.named_buffers())
    for k, expected in case["after"].items():
        assert rel_err(buffers[k].detach().numpy(), expected) < 1e-4, k
