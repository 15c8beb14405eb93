"""A finetuning run on a folder of PNG and JPEG files (torchvision's ImageFolder layout), then
the evaluator with an explicit config."""
import json

import numpy as np
from PIL import Image

from minitorch.train.cli import evaluate_main, finetune_main
from tests.train.helpers import config_dict, make_weights, write_config


def _make_folder(root):
    """Three classes told apart by colour, 8 images each, half PNG, half JPEG, mixed sizes."""
    rng = np.random.default_rng(0)
    colours = {"blue": (30, 40, 220), "green": (30, 200, 40), "red": (220, 30, 40)}
    for name, colour in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(8):
            size = (12 + i, 10 + 2 * i)
            noise = rng.integers(-25, 25, (size[1], size[0], 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            image = Image.fromarray(pixels)
            if i % 2:
                image.save(root / name / f"img{i}.jpg", quality=90)
            else:
                image.save(root / name / f"img{i}.png")
    (root / "red" / "notes.txt").write_text("not an image: ignored")
    return root


def test_image_folder_finetune_and_evaluate(tmp_path, capsys):
    root = _make_folder(tmp_path / "images")
    weights = make_weights(tmp_path / "w.h5", num_classes=5,
                           attrs={"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]})
    out = tmp_path / "run"
    cfg = config_dict(out, weights,
                      model={"num_classes": None, "freeze": ["conv1", "bn1", "layer1"]},
                      data={"dataset": "image_folder", "root": str(root), "classes": None,
                            "image_size": 8, "val_fraction": 0.25, "batch_size": 6,
                            "augment": {"horizontal_flip": True}},
                      train={"epochs": 3, "optimizer": {"lr": 0.05, "momentum": 0.9}})
    config = write_config(tmp_path / "config.yaml", cfg)
    assert finetune_main([str(config)]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    summary = capsys.readouterr().out
    assert "replaced by a new Linear(32, 3)" in summary
    assert "classes ['blue', 'green', 'red']" in summary and "18 train / 6 val" in summary
    assert evaluate_main([str(out / "best.h5"), "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "6 validation samples" in text and "blue" in text and "red" in text
    assert (out / "confusion.png").is_file()
