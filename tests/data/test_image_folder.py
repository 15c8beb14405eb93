"""ImageFolder over PNG/JPEG files made here: layout, pipeline, and every bad input."""
import os

import numpy as np
import pytest
from PIL import Image

from minitorch.data import DataError, DataLoader, ImageFolder


def _save(path, seed, size=(12, 10), fmt=None):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, format=fmt)
    return arr


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    _save(root / "cat" / "a.png", 0)
    _save(root / "cat" / "b.JPG", 1, fmt="JPEG")
    _save(root / "dog" / "x.jpeg", 2)
    _save(root / "dog" / "sub" / "y.png", 3)
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root


def test_classes_and_files_are_sorted(folder):
    ds = ImageFolder(folder, image_size=8)
    assert ds.classes == ["cat", "dog"]
    names = [os.path.relpath(p, folder) for p, _ in ds.samples]
    assert names == ["cat/a.png", "cat/b.JPG", "dog/sub/y.png", "dog/x.jpeg"]
    assert ds.targets.tolist() == [0, 0, 1, 1]


def test_pipeline_resize_center_crop_normalise(folder):
    ds = ImageFolder(folder, image_size=8, mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])
    image, label = ds[0]
    assert image.shape == (3, 8, 8) and image.dtype == np.float32 and label == 0
    pil = Image.open(folder / "cat" / "a.png").convert("RGB").resize((9, 8), Image.BILINEAR)
    arr = np.asarray(pil).transpose(2, 0, 1).astype(np.float32) / 255   # (3, 8, 9)
    left = int(round((9 - 8) / 2.0))
    expected = (arr[:, :, left:left + 8] - np.float32(0.5)) / np.float32(0.25)
    np.testing.assert_allclose(image, expected, rtol=1e-6, atol=1e-6)


def test_loader_batches_and_augmentation(folder):
    ds = ImageFolder(folder, image_size=8, random_crop=True, padding=2, horizontal_flip=True)
    loader = DataLoader(ds, batch_size=3, shuffle=True, seed=1)
    loader.set_epoch(0)
    batches = [(x.numpy(), y.numpy()) for x, y in loader]
    assert [b[0].shape for b in batches] == [(3, 3, 8, 8), (1, 3, 8, 8)]
    loader.set_epoch(0)
    again = [x.numpy() for x, _ in loader]
    np.testing.assert_array_equal(batches[0][0], again[0])
    assert ds.is_random and not ds.without_augment().is_random


def test_class_subset_in_given_order(folder):
    ds = ImageFolder(folder, classes=["dog"], image_size=4)
    assert ds.classes == ["dog"] and len(ds) == 2 and ds.targets.tolist() == [0, 0]


def test_missing_class_names_it_and_lists_what_exists(folder):
    with pytest.raises(DataError, match="no folder for class 'bird'; found: cat, dog"):
        ImageFolder(folder, classes=["cat", "bird"])


def test_missing_root_and_empty_folders(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="image folder not found: .*nothere"):
        ImageFolder(tmp_path / "nothere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=f"image folder {empty} has no class sub-folders"):
        ImageFolder(empty)
    (folder / "fish").mkdir()
    with pytest.raises(DataError, match="class folder .*fish contains no images"):
        ImageFolder(folder)


def test_corrupt_image_names_its_path(folder):
    bad = folder / "cat" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError, match=f"cannot decode image {bad}"):
        ImageFolder(folder, verify=True)
    ds = ImageFolder(folder, image_size=8)          # lazy: fails when the image is read
    index = [p for p, _ in ds.samples].index(str(bad))
    with pytest.raises(DataError, match="broken.png"):
        ds.get_batch([index])


def test_truncated_jpeg_names_its_path(folder):
    good = folder / "dog" / "x.jpeg"
    data = good.read_bytes()
    good.write_bytes(data[:len(data) // 2])
    with pytest.raises(DataError, match="x.jpeg"):
        ImageFolder(folder, verify=True)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unreadable_folder_is_named(folder):
    locked = folder / "dog"
    locked.chmod(0)
    try:
        with pytest.raises(DataError, match="cannot read image folder .*dog"):
            ImageFolder(folder)
    finally:
        locked.chmod(0o755)
