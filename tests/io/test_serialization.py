"""save/load: the HDF5 layouts of DESIGN section 3, exact round trips, and one-line errors."""
import math
import pickle
from collections import OrderedDict

import h5py
import numpy as np
import pytest

from minitorch.io import (CorruptFileError, UnsupportedObjectError, load, load_attrs, save,
                          save_state_dict)
from minitorch.tensor import Tensor


def _state_dict():
    rng = np.random.default_rng(0)
    sd = OrderedDict()
    sd["conv1.weight"] = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    sd["bn1.weight"] = Tensor(rng.standard_normal(4).astype(np.float32))
    sd["bn1.running_var"] = Tensor(rng.random(4).astype(np.float32))
    sd["bn1.num_batches_tracked"] = Tensor._new(np.array(7, dtype=np.int64))
    sd["layer1.0.conv1.weight"] = Tensor(rng.standard_normal((4, 4, 3, 3)).astype(np.float32))
    sd["fc.weight"] = Tensor(rng.standard_normal((2, 4)).astype(np.float32))
    sd["fc.bias"] = Tensor(np.zeros(2, dtype=np.float32))
    return sd


def assert_same(a, b, where="obj"):
    """Deep equality that also checks types and dtypes (== on floats would hide float32->64)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, Tensor):
        assert a.detach().numpy().dtype == b.detach().numpy().dtype and a.shape == b.shape, where
        assert a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), where
        for k in a:
            assert type(k) is type(next(x for x in b if x == k)), f"{where}: key type of {k!r}"
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where
        if isinstance(a, np.generic):
            assert a.dtype == b.dtype, where


def test_state_dict_is_stored_with_dots_as_groups(tmp_path):
    path = tmp_path / "w.h5"
    save(_state_dict(), path)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "minitorch.state_dict"
        assert f.attrs["format_version"] == 1
        assert f["layer1/0/conv1/weight"].shape == (4, 4, 3, 3)
        assert f["layer1/0/conv1/weight"].dtype == np.float32
        assert f["bn1/num_batches_tracked"].dtype == np.int64


def test_state_dict_round_trip_is_bitwise_and_ordered(tmp_path):
    sd = _state_dict()
    save(sd, tmp_path / "w.h5")
    loaded = load(tmp_path / "w.h5")
    assert isinstance(loaded, OrderedDict)
    assert_same(sd, loaded)


def test_key_order_survives_groups(tmp_path):
    # A group's datasets must not jump ahead of an earlier sibling group's keys.
    one = np.ones(1, np.float32)
    sd = OrderedDict((k, Tensor(one)) for k in ["a.x", "b", "c.d.e", "c.f", "g"])
    save(sd, tmp_path / "w.h5")
    assert list(load(tmp_path / "w.h5")) == list(sd)


def test_state_dict_of_arrays_keeps_arrays(tmp_path):
    sd = {"a.weight": np.arange(6, dtype=np.float64).reshape(2, 3), "a.bias": np.ones(2, np.int32)}
    save(sd, tmp_path / "w.h5")
    assert_same(OrderedDict(sd), load(tmp_path / "w.h5"))


def test_hand_written_flat_names_load_as_state_dict(tmp_path):
    path = tmp_path / "hand.h5"
    with h5py.File(path, "w") as f:
        f["layer1.0.conv1.weight"] = np.full((2, 2), 3.0, np.float32)
        f["fc/bias"] = np.array([1.0, 2.0], np.float32)
        f["bn.num_batches_tracked"] = np.int64(5)
    loaded = load(path)
    assert sorted(loaded) == ["bn.num_batches_tracked", "fc.bias", "layer1.0.conv1.weight"]
    assert isinstance(loaded["fc.bias"], Tensor)
    np.testing.assert_array_equal(loaded["layer1.0.conv1.weight"].detach().numpy(), np.full((2, 2), 3.0))
    assert loaded["bn.num_batches_tracked"].detach().numpy().dtype == np.int64


def test_hand_written_half_precision_widens_to_float32(tmp_path):
    path = tmp_path / "half.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "minitorch.state_dict"
        f["w"] = np.array([1.5, -2.0], np.float16)
    loaded = load(path)["w"]
    assert loaded.detach().numpy().dtype == np.float32
    np.testing.assert_array_equal(loaded.detach().numpy(), [1.5, -2.0])


def test_descriptive_attributes_round_trip(tmp_path):
    attrs = {"arch": "resnet18", "num_classes": 5, "class_names": ["a", "b", "c", "d", "e"],
             "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "source": "x.pth"}
    save_state_dict(_state_dict(), tmp_path / "w.h5", attrs=attrs)
    got = load_attrs(tmp_path / "w.h5")
    assert got["format"] == "minitorch.state_dict" and got["format_version"] == 1
    for key, value in attrs.items():
        assert got[key] == value, key
    assert sorted(load(tmp_path / "w.h5")) == sorted(_state_dict())


def test_save_state_dict_names_the_bad_entry(tmp_path):
    with pytest.raises(ValueError, match="'b'"):
        save_state_dict({"a": Tensor(np.ones(1)), "b": "text"}, tmp_path / "w.h5")
    with pytest.raises(ValueError, match="attribute 'format' is reserved"):
        save_state_dict(_state_dict(), tmp_path / "w.h5", attrs={"format": "x"})


def _rich_object():
    return {
        "tensor": Tensor(np.arange(4, dtype=np.float32)),
        "grad_tensor": Tensor._new(np.ones((2, 2), np.float64), requires_grad=True),
        "scalar_tensor": Tensor._new(np.array(True)),
        "array_u8": np.arange(5, dtype=np.uint8),
        "array_0d": np.array(2.5),
        "empty": np.zeros((0, 3), np.float32),
        "ints": [0, 1, -2, 2**62],
        "floats": [0.1, float("inf"), 1e-300],
        "nan": float("nan"),
        "strings": ["a", "hé", ""],
        "mixed": [1, "two", 3.0, None, True, [4, (5,)]],
        "tuple": (1, 2),
        "empty_list": [],
        "empty_tuple": (),
        "empty_dict": {},
        "none": None,
        "flags": {"yes": True, "no": False},
        "np_scalars": [np.float32(1.25), np.int64(-3)],
        "bytes": b"\x00\x01raw",
        "nul string": "a\x00b",
        "text with / slash": "unicode ✓",
        "": "empty key",
        "~0": "tilde key",
        "int keys": {0: "zero", 1: "one", -5: "minus five", "1": "string one"},
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
        "nested state dict": {"w.x": Tensor(np.ones(2, np.float32))},
        "leaf params": {"w": Tensor(np.ones(2, np.float32), requires_grad=True)},
        "prefix clash": {"a": Tensor(np.ones(1, np.float32)),
                         "a.b": Tensor(np.ones(1, np.float32))},
    }


def test_any_object_round_trips_with_types(tmp_path):
    obj = _rich_object()
    save(obj, tmp_path / "o.h5")
    assert_same(obj, load(tmp_path / "o.h5"))


@pytest.mark.parametrize("obj", [[1, "a", None], (Tensor(np.ones(2, np.float32)), 3),
                                 Tensor(np.eye(2, dtype=np.float32)), "just text", 42, None,
                                 OrderedDict([("b", 1), ("a", [])])])
def test_top_level_values_round_trip(tmp_path, obj):
    save(obj, tmp_path / "o.h5")
    assert_same(obj, load(tmp_path / "o.h5"))


def test_optimizer_style_state_dict_round_trips(tmp_path):
    sd = {"state": {0: {"momentum_buffer": Tensor(np.ones(3, np.float32))},
                    2: {"momentum_buffer": Tensor(np.full((2, 2), 0.5, np.float32))}},
          "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0.0,
                            "nesterov": False, "maximize": False, "params": [0, 1]},
                           {"lr": 0.01, "momentum": 0.0, "dampening": 0, "weight_decay": 1e-4,
                            "nesterov": False, "maximize": False, "params": [2]}]}
    save(sd, tmp_path / "opt.h5")
    assert_same(sd, load(tmp_path / "opt.h5"))


def test_no_pickle_is_used(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("dumps", "dump", "loads", "load"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(pickle, "Pickler", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    obj = _rich_object()
    save(obj, tmp_path / "o.h5")
    assert_same(obj, load(tmp_path / "o.h5"))


def test_unsupported_object_names_where_it_is(tmp_path):
    with pytest.raises(UnsupportedObjectError, match=r"function at root\['a'\]\[1\]"):
        save({"a": [1, lambda: 0]}, tmp_path / "o.h5")
    with pytest.raises(UnsupportedObjectError, match="beyond int64"):
        save({"big": 2**70}, tmp_path / "o.h5")
    with pytest.raises(TypeError, match="keys must be str or int"):
        save({(1, 2): 3}, tmp_path / "o.h5")
    assert not (tmp_path / "o.h5").exists()


def test_missing_file_is_file_not_found_naming_it(tmp_path):
    path = tmp_path / "nope.h5"
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load(path)


def test_not_hdf5_is_named(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("hello, not hdf5\n" * 100)
    with pytest.raises(CorruptFileError, match=r"notes\.h5.*not an HDF5 file"):
        load(path)
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty file"):
        load(tmp_path / "empty.h5")


def test_pytorch_file_gets_a_conversion_hint(tmp_path):
    (tmp_path / "resnet18.pth").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(CorruptFileError, match="not an HDF5 file.*convert_torchvision.py"):
        load(tmp_path / "resnet18.pth")


def test_truncated_file_is_named(tmp_path):
    path = tmp_path / "w.h5"
    save(_state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=r"w\.h5.*truncated") as info:
        load(path)
    assert "\n" not in str(info.value)


def test_foreign_hdf5_without_format_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["title"] = "a string, not weights"
    with pytest.raises(CorruptFileError, match="not a minitorch file: missing attribute 'format'"):
        load(path)


def test_unknown_format_and_newer_version_are_refused(tmp_path):
    path = tmp_path / "w.h5"
    save(_state_dict(), path)
    with h5py.File(path, "a") as f:
        f.attrs["format"] = "someone.else"
    with pytest.raises(CorruptFileError, match="unknown format 'someone.else'"):
        load(path)
    with h5py.File(path, "a") as f:
        f.attrs["format"] = "minitorch.state_dict"
        f.attrs["format_version"] = 2
    with pytest.raises(CorruptFileError, match="format_version 2 is newer"):
        load(path)


def test_torch_style_keywords_are_accepted(tmp_path):
    save(_state_dict(), tmp_path / "w.h5")
    loaded = load(tmp_path / "w.h5", map_location="cpu", weights_only=True)
    assert list(loaded) == list(_state_dict())
