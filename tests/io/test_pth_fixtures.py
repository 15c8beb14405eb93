"""Files written by torch.save (made once by scripts/fixtures_io.py), read without torch."""
import pathlib

import h5py
import numpy as np

import minitorch as mt
from minitorch.io import convert_torchvision, load_attrs, read_pth

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "io"


def _expected(prefix):
    with h5py.File(FIXTURES / "pth_expected.h5", "r") as f:
        return {name: f[prefix][name][...] for name in f[prefix]}


def _assert_arrays_equal(got, expected):
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        assert got[name].dtype == value.dtype, name
        assert got[name].shape == value.shape, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_zip_format_resnet_reads_exactly():
    got = read_pth(FIXTURES / "resnet18_w4.pth")
    assert len(got) == 122 and next(iter(got)) == "conv1.weight"  # torch's order kept
    _assert_arrays_equal(got, _expected("resnet"))


def test_legacy_format_with_every_dtype_reads_exactly():
    _assert_arrays_equal(read_pth(FIXTURES / "legacy_mixed.pth"), _expected("legacy"))


def test_converted_fixture_gives_torchs_logits(tmp_path):
    from models import resnet18

    out = tmp_path / "resnet18_w4.h5"
    convert_torchvision(FIXTURES / "resnet18_w4.pth", out)
    assert load_attrs(out)["num_classes"] == 5
    model = resnet18(num_classes=5, width=4, weights=str(out)).eval()
    with h5py.File(FIXTURES / "pth_expected.h5", "r") as f:
        x, logits = f["x"][...], f["logits"][...]
    with mt.no_grad():
        got = model(mt.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, logits, rtol=1e-4, atol=1e-5)
