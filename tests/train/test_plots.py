"""The pictures: real PNG files of a sensible size, written without pyplot."""
import numpy as np
from PIL import Image

from minitorch.train.plots import plot_confusion, plot_curves


def test_curves_png(tmp_path):
    records = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_acc": 0.5 + e / 10,
                "val_acc": 0.4 + e / 10, "lr": 0.1 / e} for e in range(1, 4)]
    path = tmp_path / "curves.png"
    plot_curves(records, path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > image.size[1] > 100
    assert not [p for p in tmp_path.iterdir() if p.name != "curves.png"]  # no temp left


def test_confusion_png(tmp_path):
    path = tmp_path / "confusion.png"
    plot_confusion(np.array([[5, 1], [0, 7]]), ["cat", "dog"], path)
    with Image.open(path) as image:
        assert image.format == "PNG" and min(image.size) >= 300
