"""Checkpoints: DESIGN section 3 layout, exact resume, optimizer state by name, atomic writes."""
import os
import random

import h5py
import numpy as np
import pytest
import yaml

import minitorch as mt
import minitorch.io.serialization as serialization
from minitorch import nn, optim
from minitorch.io import (CorruptFileError, capture_rng_state, load_checkpoint,
                          load_optimizer_state_by_name, optimizer_state_by_name,
                          restore_rng_state, save, save_checkpoint)


def _model():
    mt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 4))


def _optimizer(params):
    return optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True)


def _fake_step(model, opt, scheduler):
    """One deterministic 'training' step whose gradients draw from all three RNGs, so a resume
    that restores any RNG wrongly gives different weights."""
    noise = float(np.random.standard_normal()) + random.random()
    for p in opt.param_groups[0]["params"]:
        extra = mt.randn(*p.shape).detach().numpy() * 0.01
        p.grad = mt.tensor(p.detach().numpy() * 0.5 + noise + extra)
    opt.step()
    scheduler.step()


def _train(model, opt, scheduler, steps):
    for _ in range(steps):
        _fake_step(model, opt, scheduler)


def _seed_all(seed):
    mt.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def test_checkpoint_layout(tmp_path):
    model = _model()
    opt = _optimizer(model.parameters())
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    _train(model, opt, sched, 3)
    path = tmp_path / "last.h5"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=2, global_step=30,
                    config={"seed": 0, "train": {"epochs": 10, "lr": 0.1}})
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "minitorch.checkpoint" and f.attrs["format_version"] == 1
        assert f["model/0/weight"].shape == (3, 2, 3, 3)
        assert f["model/1/num_batches_tracked"].dtype == np.int64
        assert f["optimizer/state/3.weight/momentum_buffer"].shape == (4, 12)
        assert f["epoch"][()] == 2 and f["global_step"][()] == 30
    loaded = mt.load(path)
    assert list(loaded["model"]) == list(model.state_dict())
    assert loaded["optimizer"]["param_groups"][0]["params"] == [n for n, _ in
                                                                model.named_parameters()]
    assert loaded["scheduler"]["last_epoch"] == 3


def test_config_is_stored_as_yaml_text(tmp_path):
    model = _model()
    config = {"seed": 0, "data": {"classes": [5, 6], "augment": None}, "lr": 0.01}
    save_checkpoint(tmp_path / "c.h5", model=model, epoch=0, global_step=0, config=config)
    ckpt = load_checkpoint(tmp_path / "c.h5")
    assert isinstance(ckpt["config"], str)
    assert yaml.safe_load(ckpt["config"]) == config == ckpt["config_dict"]
    assert ckpt["optimizer"] is None and ckpt["scheduler"] is None


def test_frozen_parameter_names_are_recorded(tmp_path):
    model = _model()
    model[0].requires_grad_(False)
    opt = _optimizer([p for p in model.parameters() if p.requires_grad])
    save_checkpoint(tmp_path / "c.h5", model=model, optimizer=opt, epoch=1, global_step=1)
    assert load_checkpoint(tmp_path / "c.h5")["frozen_parameters"] == ["0.weight", "0.bias"]


def test_resume_is_bitwise_identical(tmp_path):
    _seed_all(1)
    model = _model()
    opt = _optimizer(model.parameters())
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    _train(model, opt, sched, 4)
    save_checkpoint(tmp_path / "mid.h5", model=model, optimizer=opt, scheduler=sched, epoch=4,
                    global_step=4)
    _train(model, opt, sched, 5)
    expected = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    expected_lr = sched.get_last_lr()

    _seed_all(99)  # a fresh process: different RNG states, fresh objects
    resumed = _model()
    opt2 = _optimizer(resumed.parameters())
    sched2 = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    ckpt = load_checkpoint(tmp_path / "mid.h5")
    resumed.load_state_dict(ckpt["model"])
    result = load_optimizer_state_by_name(opt2, resumed, ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    restore_rng_state(ckpt["rng"])
    assert result.missing == [] and result.unexpected == []
    _train(resumed, opt2, sched2, 5)
    for key, value in resumed.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), expected[key], err_msg=key)
    assert sched2.get_last_lr() == expected_lr


def test_optimizer_state_loads_when_frozen_set_changes(tmp_path):
    model = _model()
    opt = _optimizer(model.parameters())
    sched = optim.lr_scheduler.StepLR(opt, step_size=100)
    _train(model, opt, sched, 2)
    saved = optimizer_state_by_name(opt, model)
    save(saved, tmp_path / "opt.h5")
    buffers = {n: saved["state"][n]["momentum_buffer"].detach().numpy().copy() for n in saved["state"]}

    model[0].requires_grad_(False)  # now conv is frozen: indices of the others shift by two
    opt2 = _optimizer([p for p in model.parameters() if p.requires_grad])
    result = load_optimizer_state_by_name(opt2, model, mt.load(tmp_path / "opt.h5"))
    assert result.unexpected == ["0.weight", "0.bias"] and result.missing == []
    names = dict((id(p), n) for n, p in model.named_parameters())
    for p in opt2.param_groups[0]["params"]:
        np.testing.assert_array_equal(opt2.state[p]["momentum_buffer"].detach().numpy(),
                                      buffers[names[id(p)]])

    model[0].requires_grad_(True)  # and back: the conv starts without momentum
    opt3 = _optimizer(model.parameters())
    result = load_optimizer_state_by_name(opt3, model, optimizer_state_by_name(opt2, model))
    assert result.missing == ["0.weight", "0.bias"] and result.unexpected == []
    assert model[0].weight not in opt3.state and model[3].weight in opt3.state


def test_group_hyperparameters_come_from_the_checkpoint(tmp_path):
    model = _model()
    opt = _optimizer(model.parameters())
    opt.param_groups[0]["lr"] = 0.0123  # e.g. where a schedule had got to
    state = optimizer_state_by_name(opt, model)
    opt2 = _optimizer(model.parameters())
    load_optimizer_state_by_name(opt2, model, state)
    assert opt2.param_groups[0]["lr"] == 0.0123


def test_optimizer_group_count_mismatch_is_named():
    model = _model()
    opt = _optimizer(model.parameters())
    state = optimizer_state_by_name(opt, model)
    two_groups = _optimizer([{"params": model[0].parameters()}, {"params": model[3].parameters()}])
    with pytest.raises(ValueError, match="1 parameter groups, the optimizer has 2"):
        load_optimizer_state_by_name(two_groups, model, state)


def test_optimizer_parameter_outside_the_model_is_named():
    model = _model()
    stray = nn.Parameter(mt.zeros(5, 7))
    opt = _optimizer([*model.parameters(), stray])
    with pytest.raises(ValueError, match=r"shape \(5, 7\).*not in the model"):
        optimizer_state_by_name(opt, model)


def test_rng_state_capture_and_restore():
    _seed_all(3)
    state = capture_rng_state()
    first = (mt.rand(3).detach().numpy().copy(), np.random.random(3), [random.random() for _ in range(3)],
             random.gauss(0, 1), np.random.standard_normal())
    restore_rng_state(state)
    again = (mt.rand(3).detach().numpy().copy(), np.random.random(3), [random.random() for _ in range(3)],
             random.gauss(0, 1), np.random.standard_normal())
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[2:] == again[2:]


def test_rng_state_survives_a_file_round_trip(tmp_path):
    _seed_all(4)
    random.gauss(0, 1)  # leaves a cached gauss_next in Python's state
    np.random.standard_normal()  # and a cached gaussian in numpy's
    save({"rng": capture_rng_state()}, tmp_path / "rng.h5")
    expected = (mt.randn(4).detach().numpy().copy(), np.random.standard_normal(4), random.gauss(0, 1))
    _seed_all(5)
    restore_rng_state(mt.load(tmp_path / "rng.h5")["rng"])
    got = (mt.randn(4).detach().numpy().copy(), np.random.standard_normal(4), random.gauss(0, 1))
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert got[2] == expected[2]


def test_killed_checkpoint_write_leaves_previous_checkpoint(tmp_path, monkeypatch):
    model = _model()
    opt = _optimizer(model.parameters())
    path = tmp_path / "last.h5"
    save_checkpoint(path, model=model, optimizer=opt, epoch=1, global_step=10)
    before = path.read_bytes()
    real = serialization.write_container

    def die_midway(group, obj, where):
        real(group, dict(list(obj.items())[:3]), where)  # model and optimizer written, then...
        raise KeyboardInterrupt  # ... the kill arrives

    monkeypatch.setattr(serialization, "write_container", die_midway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model=model, optimizer=opt, epoch=2, global_step=20)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["last.h5"]
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1


def test_weights_file_is_not_a_checkpoint(tmp_path):
    mt.save(_model().state_dict(), tmp_path / "w.h5")
    with pytest.raises(CorruptFileError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "w.h5")


def test_saved_weights_reload_to_bitwise_identical_outputs(tmp_path):
    from models import resnet18

    mt.manual_seed(7)
    model = resnet18(num_classes=3, variant="small", width=8)
    model.train()
    x = mt.randn(2, 3, 16, 16)
    with mt.no_grad():
        model(x)  # one train-mode forward moves the BatchNorm running statistics off their init
    model.eval()
    mt.save(model.state_dict(), tmp_path / "w.h5")
    mt.manual_seed(8)
    fresh = resnet18(num_classes=3, variant="small", width=8).eval()
    fresh.load_state_dict(mt.load(tmp_path / "w.h5"))
    with mt.no_grad():
        np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_config_objects_are_rendered_as_yaml(tmp_path):
    import dataclasses

    @dataclasses.dataclass
    class Train:
        epochs: int = 3
        milestones: tuple = (1, 2)

    class Rendered:
        def to_yaml(self):
            return "seed: 5\n"

    model = _model()
    save_checkpoint(tmp_path / "a.h5", model=model, epoch=0, global_step=0, config=Train())
    assert load_checkpoint(tmp_path / "a.h5")["config_dict"] == {"epochs": 3, "milestones": [1, 2]}
    save_checkpoint(tmp_path / "b.h5", model=model, epoch=0, global_step=0, config=Rendered())
    assert load_checkpoint(tmp_path / "b.h5")["config"] == "seed: 5\n"
    with pytest.raises(TypeError, match="config must be"):
        save_checkpoint(tmp_path / "c.h5", model=model, epoch=0, global_step=0, config=3.5)
