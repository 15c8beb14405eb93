"""The digits dataset: class selection, remapping, shapes, scaling and normalisation."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from minitorch.data import Compose, DataError, Digits, RandomCrop, resize_bilinear
from minitorch.data.datasets.digits import DIGITS_MEAN, DIGITS_STD


def test_selected_classes_are_remapped_in_the_given_order():
    raw = load_digits()
    ds = Digits(classes=[7, 2], image_size=8)
    assert ds.class_names == ["7", "2"] and ds.classes == ["7", "2"]
    assert len(ds) == int(np.sum(raw.target == 7) + np.sum(raw.target == 2))
    # Label 0 is digit 7: the first 7 in the raw data is the first sample remapped to 0.
    first_seven = raw.images[raw.target == 7][0] / 16.0
    image = ds.arrays()[0][ds.targets == 0][0]
    np.testing.assert_allclose(image[1], (first_seven - DIGITS_MEAN) / DIGITS_STD, rtol=1e-5)
    assert set(ds.targets.tolist()) == {0, 1}


def test_shapes_channels_and_resize():
    ds = Digits(classes=[0, 1], image_size=16)
    x, y = ds.get_batch([0, 1, 2])
    assert x.shape == (3, 3, 16, 16) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], x[:, 2])            # replicated channels
    raw = load_digits()
    zero = raw.images[raw.target == 0][0].astype(np.float32) / 16
    expected = (resize_bilinear(zero, (16, 16)) - np.float32(DIGITS_MEAN)) / np.float32(DIGITS_STD)
    np.testing.assert_allclose(x[0, 0], expected, rtol=1e-5, atol=1e-6)
    image, label = ds[0]
    assert image.shape == (3, 16, 16) and label == 0


def test_all_classes_by_default_and_custom_normalisation():
    ds = Digits(image_size=8, mean=[0.0], std=[1.0], channels=1)
    assert len(ds) == 1797 and ds.class_names == [str(d) for d in range(10)]
    x, _ = ds.arrays()
    assert x.shape == (1797, 1, 8, 8) and x.min() == 0.0 and x.max() == 1.0


def test_augmentation_only_through_the_generator_protocol():
    aug = Compose([RandomCrop(8, padding=3)])
    ds = Digits(classes=[1], image_size=8, augment=aug)
    plain = ds.without_augment()
    a, _ = ds.get_item(0, np.random.default_rng(1))
    b, _ = ds.get_item(0, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(plain[0][0], plain.arrays()[0][0])
    assert plain.augment is None and ds.augment is aug


@pytest.mark.parametrize("classes,match", [([12], "unknown class 12"), ([], "empty"),
                                           ([3, 3], "listed twice"), (["x"], "unknown class 'x'")])
def test_bad_classes_are_named(classes, match):
    with pytest.raises(DataError, match=match):
        Digits(classes=classes)


def test_string_digits_are_accepted():
    assert Digits(classes=["5", "6"], image_size=8).class_names == ["5", "6"]


def test_raw_data_equals_sklearn_load_digits():
    from minitorch.data.datasets.digits import _load_raw
    images, labels = _load_raw()
    raw = load_digits()
    np.testing.assert_array_equal(images, raw.images.astype(np.float32) / np.float32(16))
    np.testing.assert_array_equal(labels, raw.target)
