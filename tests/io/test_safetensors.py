"""safetensors: a ResNet-18 written by the safetensors library (from numpy arrays, and from torch
tensors) loads into models.resnet18 with torchvision's names and gives the same logits as the same
weights in HDF5 (and as torch's own model)."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.io import (CorruptFileError, load_safetensors, read_weights_file,
                          save_safetensors, save_state_dict)
from models import resnet18
from scripts.fixtures_resnet import perturb_batchnorm, torch_resnet18

st = pytest.importorskip("safetensors.numpy")


def _arrays(seed=0, width=8, num_classes=5):
    mt.manual_seed(seed)
    model = resnet18(num_classes=num_classes, variant="small", width=width)
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, value in model.state_dict().items():
        a = value.numpy().copy()
        if "running_var" in name:
            a = rng.uniform(0.5, 1.5, a.shape).astype(np.float32)
        elif a.dtype.kind == "f":
            a = (a + rng.normal(0, 0.05, a.shape)).astype(np.float32)
        arrays[name] = a
    return arrays


def _logits(weights, x):
    model = resnet18(num_classes=5, variant="small", width=8, weights=weights).eval()
    with mt.no_grad():
        return model(mt.tensor(x)).numpy()


def test_safetensors_from_numpy_gives_the_hdf5_logits(tmp_path):
    arrays = _arrays()
    st.save_file(arrays, str(tmp_path / "m.safetensors"))
    save_state_dict({k: mt.tensor(v) for k, v in arrays.items()}, tmp_path / "m.h5")
    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16)).astype(np.float32)
    a, b = _logits(tmp_path / "m.safetensors", x), _logits(tmp_path / "m.h5", x)
    assert a.tobytes() == b.tobytes()


def test_safetensors_from_torch_gives_torchs_logits(tmp_path):
    torch = pytest.importorskip("torch")
    st_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    theirs = torch_resnet18(torch, num_classes=5, variant="small", width=8)
    perturb_batchnorm(torch, theirs, torch.Generator().manual_seed(1))
    theirs.eval()
    st_torch.save_file(theirs.state_dict(), str(tmp_path / "t.safetensors"))
    x = np.random.default_rng(2).standard_normal((3, 3, 16, 16)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    got = _logits(str(tmp_path / "t.safetensors"), x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    state = {k: mt.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    save_state_dict(state, tmp_path / "t.h5")
    assert _logits(tmp_path / "t.h5", x).tobytes() == got.tobytes()


def test_save_safetensors_round_trips_names_dtypes_shapes_and_attrs(tmp_path):
    arrays = _arrays(width=4)
    path = tmp_path / "m.safetensors"
    attrs = {"class_names": ["a", "b"], "mean": [0.5, 0.4, 0.3], "image_size": 32}
    save_safetensors({k: mt.tensor(v) for k, v in arrays.items()}, path, attrs=attrs)
    plain = st.load_file(str(path))     # any safetensors reader sees the same tensors
    assert plain.keys() == arrays.keys()
    for k, v in arrays.items():
        assert plain[k].dtype == v.dtype and plain[k].shape == v.shape, k
        np.testing.assert_array_equal(plain[k], v)
    state, meta = load_safetensors(path)
    assert meta == attrs
    assert state["bn1.num_batches_tracked"].dtype == mt.int64
    assert state["bn1.num_batches_tracked"].shape == ()


def test_a_damaged_safetensors_file_is_one_line_naming_it(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(CorruptFileError, match="bad.safetensors"):
        read_weights_file(path)
    with pytest.raises(FileNotFoundError):
        read_weights_file(tmp_path / "missing.safetensors")
