"""The npz dataset: layouts, dtypes, class selection, errors."""
import numpy as np
import pytest

from minitorch.data import DataError, NpzDataset


def _write(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_nhwc_uint8_is_scaled_and_transposed(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (6, 5, 4, 3), dtype=np.uint8)
    y = np.array([0, 1, 2, 0, 1, 2])
    ds = NpzDataset(_write(tmp_path / "d.npz", x=x, y=y), mean=[0.0], std=[1.0])
    images, labels = ds.arrays()
    assert images.shape == (6, 3, 5, 4) and images.dtype == np.float32
    np.testing.assert_array_equal(images, x.transpose(0, 3, 1, 2).astype(np.float32) / 255)
    assert labels.tolist() == y.tolist() and ds.class_names == ["0", "1", "2"]


def test_nchw_float_classes_and_names(tmp_path):
    x = np.random.default_rng(1).random((8, 1, 4, 4)).astype(np.float64)
    y = np.array([3, 1, 3, 1, 2, 2, 3, 1])
    names = np.array(["zero", "one", "two", "three"])
    ds = NpzDataset(_write(tmp_path / "d.npz", x=x, y=y, class_names=names),
                    classes=["three", 1], image_size=8)
    assert ds.class_names == ["three", "one"]
    assert ds.targets.tolist() == [0, 1, 0, 1, 0, 1]
    images, _ = ds.arrays()
    assert images.shape == (6, 1, 8, 8)
    # Default normalisation: the selected images' own mean and std.
    raw = ds.images
    np.testing.assert_allclose(ds.mean, [raw.mean()], rtol=1e-5)
    np.testing.assert_allclose(images.mean(), 0.0, atol=1e-5)


def test_missing_and_bad_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="npz file not found: .*nope.npz"):
        NpzDataset(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read npz file .*bad.npz"):
        NpzDataset(bad)
    with pytest.raises(DataError, match="lacks array 'y'"):
        NpzDataset(_write(tmp_path / "noy.npz", x=np.zeros((2, 3, 4, 4))))
    with pytest.raises(DataError, match="y must be 2 integer labels"):
        NpzDataset(_write(tmp_path / "fy.npz", x=np.zeros((2, 3, 4, 4)), y=np.zeros(2)))
    with pytest.raises(DataError, match="channel axis"):
        NpzDataset(_write(tmp_path / "c.npz", x=np.zeros((2, 5, 4, 7)), y=np.zeros(2, int)))
    with pytest.raises(DataError, match="unknown class 9"):
        NpzDataset(_write(tmp_path / "ok.npz", x=np.zeros((2, 3, 4, 4)), y=np.array([0, 1])),
                   classes=[9])
