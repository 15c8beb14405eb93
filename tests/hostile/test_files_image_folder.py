"""Careless and hostile image folders: every real file counted once, symlink loops named,
never the same file in two classes or in both train and validation."""
import os

import numpy as np
import pytest
from PIL import Image

from minitorch.data import DataError, ImageFolder
from minitorch.data.split import train_val_split

from .helpers import assert_one_line_error, finetune, snapshot, tiny_config, write_yaml


def _images(root, per_class=6, classes=("a", "b")):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
                root / c / f"{i}.png")
    return root


def test_symlink_loop_is_named_not_followed(tmp_path):
    root = _images(tmp_path / "imgs")
    os.symlink(root / "a", root / "a" / "again")
    with pytest.raises(DataError, match=r"^image folder: symlink loop at .*a/again \(it leads "
                                        r"back to .*a\)$"):
        ImageFolder(root)


def test_link_to_the_root_is_a_loop_too(tmp_path):
    root = _images(tmp_path / "imgs")
    os.symlink(root, root / "a" / "up")
    with pytest.raises(DataError, match="symlink loop at .*a/up/a "):
        ImageFolder(root)


def test_a_file_reached_by_two_paths_counts_once(tmp_path):
    root = _images(tmp_path / "imgs")
    os.symlink(root / "a" / "0.png", root / "a" / "zz_link.png")
    (root / "a" / "nested").mkdir()
    os.symlink(root / "a" / "nested", root / "a" / "nested_again")
    Image.new("RGB", (8, 8)).save(root / "a" / "nested" / "n.png")
    ds = ImageFolder(root)
    reals = [os.path.realpath(p) for p, _ in ds.samples]
    assert len(ds) == 13 and len(set(reals)) == 13
    assert str(root / "a" / "zz_link.png") not in [p for p, _ in ds.samples]


def test_the_same_file_in_two_classes_is_an_error_naming_both(tmp_path):
    root = _images(tmp_path / "imgs")
    os.symlink(root / "a" / "3.png", root / "b" / "stolen.png")
    with pytest.raises(DataError, match=r"image .*b/stolen.png \(class 'b'\) is the same file "
                                        r"as .*a/3.png \(class 'a'\)"):
        ImageFolder(root)


def test_no_file_in_both_train_and_validation(tmp_path):
    root = _images(tmp_path / "imgs")
    for c in ("a", "b"):
        for i in range(6):
            os.symlink(root / c / f"{i}.png", root / c / f"dup{i}.png")
    ds = ImageFolder(root)
    train, val = train_val_split(ds, 0.5, seed=0)

    def real(subset):
        return {os.path.realpath(ds.samples[i][0]) for i in subset.indices}
    assert len(ds) == 12
    assert not real(train) & real(val) and len(real(train)) + len(real(val)) == 12


def test_cli_symlink_loop_is_one_line(tmp_path):
    root = _images(tmp_path / "imgs")
    os.symlink(root, root / "a" / "loop")
    out = tmp_path / "run"
    cfg = write_yaml(tmp_path / "c.yaml", tiny_config(out, data={
        "dataset": "image_folder", "root": str(root), "classes": None}, model={
        "num_classes": 2, "in_channels": 3}))
    assert_one_line_error(finetune(cfg), "symlink loop at", "a/loop")
    assert snapshot(out) is None
