"""Saving as PyTorch programs do: ``mt.save(model.state_dict(), "model.pth")`` and
``mt.load("model.pth", weights_only=True, map_location=...)``; a whole Module is refused with
a message that says what to save instead."""
import h5py
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.io import UnsupportedObjectError


def make_model():
    mt.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


@pytest.mark.parametrize("name", ["model.pth", "model.pt", "weights.bin", "model.h5"])
def test_state_dict_round_trips_through_any_file_name(tmp_path, name):
    model = make_model()
    model(mt.randn(5, 3))  # moves the BatchNorm running statistics
    path = tmp_path / name
    mt.save(model.state_dict(), path)
    assert h5py.is_hdf5(path)  # HDF5 whatever the name
    mt.manual_seed(99)  # other initial weights: only the loaded state can make them equal
    restored = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    restored.load_state_dict(mt.load(path, weights_only=True))
    for (k, a), (k2, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        assert k == k2 and a.numpy().tobytes() == b.numpy().tobytes()
    model.eval()
    restored.eval()
    x = mt.randn(2, 3)
    np.testing.assert_array_equal(restored(x).detach().numpy(), model(x).detach().numpy())


@pytest.mark.parametrize("map_location", [None, "cpu", "cpu:0", {"cuda:0": "cpu"},
                                          lambda storage, loc: storage])
def test_map_location_to_the_cpu_is_accepted(tmp_path, map_location):
    mt.save({"w": mt.ones(2)}, tmp_path / "a.pth")
    out = mt.load(tmp_path / "a.pth", map_location=map_location, weights_only=False)
    np.testing.assert_array_equal(out["w"].numpy(), np.ones(2))


@pytest.mark.parametrize("map_location", ["cuda", "cuda:1", {"cpu": "cuda:0"}, "mps"])
def test_map_location_to_another_device_is_one_clear_error(tmp_path, map_location):
    mt.save({"w": mt.ones(2)}, tmp_path / "a.pth")
    with pytest.raises(RuntimeError, match="minitorch runs on the CPU only; use "
                                           "map_location='cpu'"):
        mt.load(tmp_path / "a.pth", map_location=map_location)


def test_saving_a_whole_module_says_to_save_the_state_dict(tmp_path):
    path = tmp_path / "model.pth"
    with pytest.raises(UnsupportedObjectError) as info:
        mt.save(make_model(), path)
    message = str(info.value)
    assert "cannot save a whole Sequential" in message
    assert "mt.save(obj.state_dict(), path)" in message and "\n" not in message
    assert not path.exists()  # nothing half-written
    with pytest.raises(TypeError):  # what a torch user would catch
        mt.save(make_model(), path)


def test_a_module_nested_in_a_dict_gets_the_same_hint(tmp_path):
    with pytest.raises(UnsupportedObjectError, match=r"save its state dict instead"):
        mt.save({"epoch": 3, "model": make_model()}, tmp_path / "ckpt.pth")


def test_saving_an_optimizer_object_says_to_save_its_state_dict(tmp_path):
    opt = mt.optim.AdamW(make_model().parameters())
    with pytest.raises(UnsupportedObjectError, match="cannot save a whole AdamW.*state_dict"):
        mt.save(opt, tmp_path / "opt.pth")


def test_tutorial_style_checkpoint_dict_round_trips(tmp_path):
    """The tutorials' checkpoint: epoch, model and optimizer state dicts, the loss."""
    model = make_model()
    opt = mt.optim.Adam(model.parameters(), lr=0.01)
    loss = model(mt.randn(4, 3)).sum()
    loss.backward()
    opt.step()
    mt.save({"epoch": 5, "model_state_dict": model.state_dict(),
             "optimizer_state_dict": opt.state_dict(), "loss": loss.item()},
            tmp_path / "checkpoint.pth")
    ckpt = mt.load(tmp_path / "checkpoint.pth", weights_only=True)
    assert ckpt["epoch"] == 5 and ckpt["loss"] == loss.item()
    model2 = make_model()
    model2.load_state_dict(ckpt["model_state_dict"])
    opt2 = mt.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["optimizer_state_dict"])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for p, q in zip(model.parameters(), model2.parameters()):
        a, b = opt.state[p], opt2.state[q]
        assert set(a) == set(b) == {"step", "exp_avg", "exp_avg_sq"}
        for key in a:
            assert a[key].numpy().tobytes() == b[key].numpy().tobytes()
