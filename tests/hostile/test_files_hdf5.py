"""Hostile HDF5 files: declared sizes checked before any allocation, links that loop or leave
the file refused, damaged metadata and non-finite weights one line each."""
import h5py
import numpy as np
import pytest

import minitorch as mt
from minitorch.io import CorruptFileError, load, load_attrs, save, save_state_dict
from minitorch.io.errors import NonFiniteError, WeightsAttributeError

from .helpers import (assert_one_line_error, finetune, finetune_baseline, snapshot,  # noqa: F401
                      tiny_config, write_yaml)


def _weights(path, **extra_attrs):
    """A small valid weights file to plant hostile entries in."""
    sd = {"conv1.weight": mt.ones(2, 3, 3, 3), "fc.weight": mt.ones(5, 2), "fc.bias": mt.zeros(5)}
    save_state_dict(sd, path, attrs={"arch": "resnet18", "num_classes": 5, **extra_attrs})
    return path


def _plant(path, build):
    with h5py.File(path, "a") as f:
        build(f)
    return path


def _refused(path, *fragments, **kwargs):
    with pytest.raises(CorruptFileError) as info:
        load(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"'{path}': "), message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_hard_link_cycle_is_refused(tmp_path):
    def build(f):
        f["layer1/0"].create_group("x")
        f["layer1/0/x/up"] = f["layer1"]
    path = _plant(_weights(tmp_path / "w.h5"), lambda f: f.create_group("layer1/0"))
    _plant(path, build)
    _refused(path, "entry 'layer1.0.x.up' is a group reached a second time", "a link cycle")


def test_soft_link_cycle_is_refused_in_an_object_file(tmp_path):
    path = tmp_path / "o.h5"
    save({"a": {"b": [1, "x"]}}, path)
    _plant(path, lambda f: f["a"].__setitem__("loop", h5py.SoftLink("/a")))
    _refused(path, "entry '/a/loop' is a group reached a second time")


def test_dangling_and_external_links_are_named(tmp_path):
    dangling = _plant(_weights(tmp_path / "d.h5"),
                      lambda f: f["fc"].__setitem__("extra", h5py.SoftLink("/nowhere")))
    _refused(dangling, "entry 'fc.extra' is a dangling link to '/nowhere'")
    other = tmp_path / "other.h5"
    _weights(other)
    external = _plant(_weights(tmp_path / "e.h5"),
                      lambda f: f.__setitem__("bn1", h5py.ExternalLink(str(other), "/fc")))
    _refused(external, "entry 'bn1' is an external link to", "it would read another file")


def test_virtual_dataset_with_a_missing_source_is_refused_not_zeros(tmp_path):
    def build(f):
        layout = h5py.VirtualLayout(shape=(5,), dtype="f4")
        layout[:] = h5py.VirtualSource(str(tmp_path / "missing.h5"), "x", shape=(5,))
        f["fc"].create_virtual_dataset("bias2", layout, fillvalue=0)
    _refused(_plant(_weights(tmp_path / "w.h5"), build), "entry 'fc.bias2' is a virtual dataset")


def test_external_storage_is_refused(tmp_path):
    (tmp_path / "raw.bin").write_bytes(b"\0" * 20)
    path = _plant(_weights(tmp_path / "w.h5"), lambda f: f.create_dataset(
        "bn1/weight", shape=(5,), dtype="f4", external=[(str(tmp_path / "raw.bin"), 0, 20)]))
    _refused(path, "entry 'bn1.weight' keeps its data in external file(s)")


@pytest.mark.parametrize("dtype, name", [
    (np.dtype([("a", "i4"), ("b", "f4")]), "compound"),
    (h5py.vlen_dtype("i4"), "vlen"),
])
def test_compound_and_vlen_dtypes_are_refused_in_object_files(tmp_path, dtype, name):
    path = tmp_path / "o.h5"
    save({"t": mt.ones(3), "n": 1}, path)

    def build(f):
        del f["t"]
        f.create_dataset("t", shape=(3,), dtype=dtype)
        f["t"].attrs["kind"] = "tensor"
    _refused(_plant(path, build), "entry '/t' has dtype", "numbers and strings only")


def test_fill_value_dataset_is_refused_before_allocating(tmp_path):
    path = _plant(_weights(tmp_path / "w.h5"), lambda f: f.create_dataset(
        "bn1/weight", shape=(2**20, 2**20), dtype="f4", fillvalue=1.0))
    _refused(path, "entry 'bn1.weight' declares 4398046511104 bytes", "would be fill values")


def test_object_nesting_is_bounded(tmp_path):
    path = tmp_path / "deep.h5"
    save({"x": 1}, path)

    def build(f):
        g = f
        for _ in range(150):
            g = g.create_group("d")
            g.attrs["kind"] = "dict"
    _refused(_plant(path, build), "/d/d/d/d", "is nested deeper than 100 levels")


def test_non_finite_weights_are_refused_unless_asked_for(tmp_path):
    sd = {"conv1.weight": mt.ones(2, 2), "fc.bias": mt.tensor([0.0, float("nan"), float("inf")])}
    save_state_dict(sd, tmp_path / "w.h5")
    with pytest.raises(NonFiniteError, match=r"tensor 'fc.bias' holds NaN or Inf \(2 of 3 "
                                             r"values\); pass allow_nonfinite=True"):
        load(tmp_path / "w.h5")
    loaded = load(tmp_path / "w.h5", allow_nonfinite=True)
    assert np.isnan(loaded["fc.bias"].numpy()[1]) and np.isinf(loaded["fc.bias"].numpy()[2])


def test_max_bytes_caps_what_a_file_may_allocate(tmp_path):
    path = _weights(tmp_path / "w.h5")
    assert sorted(load(path, max_bytes=10_000)) == ["conv1.weight", "fc.bias", "fc.weight"]
    _refused(path, "takes the data read past 100 bytes", max_bytes=100)


@pytest.mark.parametrize("attrs, message", [
    ({"std": [0.2, 0.0, 0.2], "mean": [0.5] * 3}, "attribute 'std' must hold numbers > 0"),
    ({"mean": [0.5, float("nan")], "std": [1.0, 1.0]}, "attribute 'mean' must hold finite"),
    ({"num_classes": "five"}, "attribute 'num_classes' must be an integer >= 1, got 'five'"),
    ({"num_classes": 5, "class_names": ["a", "b"]},
     "attribute 'class_names' must list num_classes (5) classes"),
    ({"class_names": ["a", "a", "b", "c", "d"]}, "attribute 'class_names' lists a class twice"),
    ({"mean": [0.5, 0.5], "std": [1.0]}, "attribute 'std' must have as many values as 'mean'"),
    ({"arch": ""}, "attribute 'arch' must be a non-empty string"),
])
def test_weights_attributes_are_validated_on_reading(tmp_path, attrs, message):
    path = tmp_path / "w.h5"
    save_state_dict({"fc.weight": mt.ones(5, 2)}, path)
    with h5py.File(path, "a") as f:
        for name, value in attrs.items():
            f.attrs[name] = value
    with pytest.raises(WeightsAttributeError) as info:
        load_attrs(path)
    assert str(info.value).startswith(f"'{path}': {message}")


# ---- through the CLI: exit 2, one line, bounded memory, the output folder untouched --------

def _finetune_with_weights(tmp_path, weights, baseline, *fragments, **model):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"epoch": 1}\n')
    before = snapshot(out)
    cfg = write_yaml(tmp_path / "c.yaml", tiny_config(out, weights=str(weights),
                                                      model={"weights": str(weights), **model}))
    line = assert_one_line_error(finetune(cfg), "model.weights: ", *fragments, baseline=baseline)
    assert snapshot(out) == before
    return line


def test_cli_fill_value_dataset(tmp_path, finetune_baseline):
    path = _plant(_weights(tmp_path / "w.h5"), lambda f: f.create_dataset(
        "bn1/running_var", shape=(30000, 30000), dtype="f4", fillvalue=1.0))
    assert path.stat().st_size < 100_000
    _finetune_with_weights(tmp_path, path, finetune_baseline, "would be fill values")


def test_cli_compressed_bomb_is_capped_by_the_model(tmp_path, finetune_baseline):
    def build(f):
        ds = f.create_dataset("bn1/weight", shape=(1000, 100_000), dtype="f4",
                              chunks=(10, 100_000), compression="gzip", compression_opts=1)
        zeros = np.zeros((10, 100_000), "f4")
        for i in range(0, 1000, 10):
            ds[i:i + 10] = zeros
    path = _plant(_weights(tmp_path / "w.h5"), build)
    assert path.stat().st_size < 2_000_000   # 400 MB declared
    _finetune_with_weights(tmp_path, path, finetune_baseline, "more than the model needs")


def test_cli_link_cycle(tmp_path, finetune_baseline):
    path = _plant(_weights(tmp_path / "w.h5"), lambda f: f["fc"].__setitem__("me", f["fc"]))
    _finetune_with_weights(tmp_path, path, finetune_baseline, "link cycle")


def test_cli_clobbered_metadata(tmp_path, finetune_baseline):
    path = _weights(tmp_path / "w.h5")
    with h5py.File(path, "r") as f:
        header = h5py.h5o.get_info(f["fc/weight"].id).addr
    with open(path, "r+b") as f:
        f.seek(header)
        f.write(b"\xff" * 48)
    _finetune_with_weights(tmp_path, path, finetune_baseline, "entry 'fc.weight'",
                           "damaged HDF5 file")


def test_cli_nonfinite_weights_refused_then_allowed_by_config(tmp_path, finetune_baseline):
    from tests.train.helpers import make_weights
    path = make_weights(tmp_path / "w.h5")
    with h5py.File(path, "a") as f:
        f["layer1/0/bn1/running_var"][0] = np.inf
    _finetune_with_weights(tmp_path, path, finetune_baseline,
                           "tensor 'layer1.0.bn1.running_var' holds NaN or Inf",
                           "set model.allow_nonfinite: true to load it anyway")
    allowed = write_yaml(tmp_path / "a.yaml", tiny_config(tmp_path / "run2", model={
        "weights": str(path), "allow_nonfinite": True, "freeze": "backbone"}))
    outcome = finetune(allowed)
    assert outcome.code == 0, outcome


@pytest.mark.parametrize("copies", [1, 2])
def test_clobbered_attribute_dataspace_is_one_line(tmp_path, copies):
    # A hand-written file (old-style object headers, no checksums) whose attribute 'mean' is
    # made to declare 2**40 values: HDF5 itself refuses it, and the refusal is one line.
    path = tmp_path / "w.h5"
    with h5py.File(path, "w") as f:
        f["fc.weight"] = np.ones((2, 2), "f4")
        f.attrs["mean"] = np.full(3001, 0.5)
    data = bytearray(path.read_bytes())
    for _ in range(copies):   # the dimension and the maximum dimension
        at = data.find((3001).to_bytes(8, "little"))
        data[at:at + 8] = (2**40).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    for read in (load_attrs, load):
        with pytest.raises(CorruptFileError, match=r"^'.*w.h5': damaged HDF5 file \(.*\)$"):
            read(path)
