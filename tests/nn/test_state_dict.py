"""Module.state_dict / load_state_dict: keys, in-place loading, and collected errors."""
from collections import OrderedDict

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.nn.module import StateDictError


def small_net():
    return nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2), nn.Flatten(),
                         nn.Linear(8, 3))


def test_state_dict_keys_values_and_dtypes():
    sd = small_net().state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked", "3.weight", "3.bias"]
    assert sd["1.num_batches_tracked"].detach().numpy().dtype == np.int64
    assert sd["1.num_batches_tracked"].shape == ()
    assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())


def test_state_dict_values_share_storage_with_the_model():
    net = small_net()
    sd = net.state_dict()
    net[3].bias.detach().numpy()[0] = 42.0
    assert sd["3.bias"].detach().numpy()[0] == 42.0


def test_load_state_dict_copies_in_place_into_the_same_parameters():
    src, dst = small_net(), small_net()
    weight = dst[3].weight
    storage = weight.detach().numpy()
    version = weight._version
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst[3].weight is weight and weight.detach().numpy() is storage
    assert weight._version > version
    for key, value in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[key].detach().numpy(), value.detach().numpy())


def test_load_state_dict_accepts_numpy_arrays_and_casts_dtype():
    net = small_net()
    sd = {k: v.detach().numpy().astype(np.float64) + 1 for k, v in net.state_dict().items()}
    expected = {k: v.copy() for k, v in sd.items()}
    net.load_state_dict(sd)
    assert net[3].bias.detach().numpy().dtype == np.float32
    np.testing.assert_allclose(net[3].bias.detach().numpy(), expected["3.bias"], rtol=1e-6)


def test_load_state_dict_reports_every_problem_in_one_error():
    net = small_net()
    sd = net.state_dict()
    del sd["0.weight"], sd["3.bias"]
    sd["3.weight"] = mt.zeros(5, 8)
    sd["extra.weight"] = mt.zeros(1)
    with pytest.raises(StateDictError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert message.startswith("Error(s) in loading state_dict for Sequential:")
    lines = message.split("\n")[1:]
    assert len(lines) == 4
    assert '  missing key: "0.weight"' in lines and '  missing key: "3.bias"' in lines
    assert '  unexpected key: "extra.weight"' in lines
    assert any("size mismatch for 3.weight" in line and "(5, 8)" in line and "(3, 8)" in line
               for line in lines)
    assert info.value.missing_keys == ["0.weight", "3.bias"]


def test_failed_load_changes_nothing():
    net = small_net()
    before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    sd = {k: mt.ones(*v.shape) for k, v in net.state_dict().items()}
    sd["3.bias"] = mt.ones(4)
    with pytest.raises(StateDictError):
        net.load_state_dict(sd)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), before[key])


def test_non_strict_returns_missing_and_unexpected_keys():
    net = small_net()
    sd = net.state_dict()
    del sd["3.bias"]
    sd["head.weight"] = mt.zeros(2)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["3.bias"] and result.unexpected_keys == ["head.weight"]
    assert result == (["3.bias"], ["head.weight"])


def test_shape_mismatch_is_an_error_even_when_not_strict():
    net = small_net()
    sd = net.state_dict()
    sd["3.weight"] = np.zeros((3, 9), np.float32)
    with pytest.raises(StateDictError, match=r"size mismatch for 3.weight.*\(3, 9\).*\(3, 8\)"):
        net.load_state_dict(sd, strict=False)


def test_older_exports_without_num_batches_tracked_load():
    net = small_net()
    net[1].num_batches_tracked.detach().numpy()[...] = 7
    sd = {k: v for k, v in small_net().state_dict().items() if "num_batches" not in k}
    assert net.load_state_dict(sd).missing_keys == []
    assert int(net[1].num_batches_tracked.item()) == 7  # kept, like PyTorch


def test_non_persistent_buffers_are_neither_saved_nor_expected():
    m = nn.Module()
    m.register_buffer("cache", mt.zeros(2), persistent=False)
    m.w = nn.Parameter(mt.zeros(2))
    assert list(m.state_dict()) == ["w"]
    m.load_state_dict({"w": np.ones(2, np.float32)})
    assert m.w.detach().numpy().tolist() == [1.0, 1.0]


def test_state_dict_prefix_and_keep_vars():
    net = nn.Linear(2, 2)
    sd = net.state_dict(prefix="head.", keep_vars=True)
    assert list(sd) == ["head.weight", "head.bias"]
    assert sd["head.weight"] is net.weight


def test_load_state_dict_is_not_recorded_by_autograd():
    net = nn.Linear(2, 2)
    net.load_state_dict({"weight": mt.ones(2, 2), "bias": mt.zeros(2)})
    assert net.weight.is_leaf and net.weight.grad_fn is None and net.weight.requires_grad
