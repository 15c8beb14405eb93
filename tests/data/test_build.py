"""build_datasets: the config's data section into train and val datasets."""
import numpy as np
import pytest

from minitorch.data import DataError, build_datasets
from minitorch.train.config import config_from_dict


def _data(**data):
    return config_from_dict({"data": data}).data


def test_digits_split_is_stratified_and_val_is_not_augmented():
    data = _data(classes=[5, 6], image_size=8, val_fraction=0.25,
                 augment={"random_crop": True, "padding": 2, "horizontal_flip": True})
    train, val, names = build_datasets(data, seed=0)
    assert names == ["5", "6"]
    assert len(train) + len(val) == 363 and len(val) == round(182 * 0.25) + round(181 * 0.25)
    assert not set(train.indices) & set(val.indices)
    assert train.dataset.augment is not None and val.dataset.augment is None
    x, y = val.get_batch(np.arange(4), None)
    assert x.shape == (4, 3, 8, 8)


def test_mean_std_priority_config_then_argument_then_default():
    train, _, _ = build_datasets(_data(classes=[1], image_size=8), mean=[0.1], std=[0.2])
    assert train.dataset.mean == [0.1] and train.dataset.std == [0.2]
    train, _, _ = build_datasets(_data(classes=[1], image_size=8, mean=[0.3], std=[0.4]),
                                 mean=[0.1], std=[0.2])
    assert train.dataset.mean == [0.3]


def test_npz_and_image_folder_errors_surface(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        build_datasets(_data(dataset="npz", root=str(tmp_path / "missing.npz")))
    with pytest.raises(DataError, match="image folder .* has no class sub-folders"):
        build_datasets(_data(dataset="image_folder", root=str(tmp_path)))


def test_too_small_val_split_is_an_error(tmp_path):
    x = np.zeros((2, 1, 4, 4), np.float32)
    np.savez(tmp_path / "two.npz", x=x, y=np.array([0, 1]))
    with pytest.raises(DataError, match="leaves no validation samples"):
        build_datasets(_data(dataset="npz", root=str(tmp_path / "two.npz"), val_fraction=0.2))
