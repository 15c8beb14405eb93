"""A tiny labelled image folder of PNG and JPEG files in mixed sizes and modes, and a one-epoch
finetuning run on it, shared by the predict, evaluate and export tests."""
import shutil
from pathlib import Path

import numpy as np

from .helpers import write_config

CLASSES = ("circle", "stripes", "dots")
# (extension, PIL mode, (width, height)): every image of a class cycles through these
VARIANTS = ((".png", "RGB", (20, 16)), (".jpg", "L", (17, 23)), (".png", "RGBA", (16, 16)),
            (".png", "P", (25, 18)), (".jpeg", "RGB", (30, 21)))


def _pattern(label, size, rng):
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    if label == 0:
        base = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 3) ** 2) * 200.0
    elif label == 1:
        base = (yy % 6 < 3) * 200.0
    else:
        base = ((xx % 5 < 2) & (yy % 5 < 2)) * 200.0
    noise = rng.integers(0, 40, size=(h, w, 3))
    return np.clip(base[..., None] + noise, 0, 255).astype(np.uint8)


def make_image_folder(root, per_class=5, seed=0):
    """root/<class>/<i><ext> for CLASSES; returns root."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    root = Path(root)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            ext, mode, size = VARIANTS[i % len(VARIANTS)]
            image = Image.fromarray(_pattern(label, size, rng), "RGB").convert(mode)
            if ext != ".png" and mode not in ("RGB", "L"):
                image = image.convert("RGB")
            image.save(root / name / f"{i:02d}{ext}")
    return root


def image_folder_config(root, out_dir, **model):
    return {
        "seed": 0,
        "model": {"arch": "resnet18", "variant": "small", "width": 8, "weights": None,
                  "num_classes": None, "freeze": "none", **model},
        "data": {"dataset": "image_folder", "root": str(root), "image_size": 16,
                 "val_fraction": 0.4, "batch_size": 8},
        "train": {"epochs": 1, "optimizer": {"lr": 0.05, "momentum": 0.9},
                  "feature_cache": "off"},
        "output": {"dir": str(out_dir), "plot": False},
    }


def finetune_image_folder(tmp, per_class=5):
    """(trainer, best.h5 path, image root) after one epoch on a fresh image folder in ``tmp``."""
    from minitorch.train.config import load_config
    from minitorch.train.trainer import Trainer
    tmp = Path(tmp)
    root = make_image_folder(tmp / "images", per_class)
    config = load_config(write_config(tmp / "config.yaml",
                                      image_folder_config(root, tmp / "run")))
    trainer = Trainer(config, out=open(tmp / "train.log", "w"))
    trainer.fit()
    return trainer, tmp / "run" / "best.h5", root


def copy_image_folder_run(image_folder_run, dest):
    """(trainer, best.h5 path, image root) of a copy in ``dest`` of the session's
    ``image_folder_run`` (the trainer is the session's, its paths the original folder's)."""
    trainer, folder = image_folder_run
    shutil.copytree(folder, dest, dirs_exist_ok=True)
    return trainer, Path(dest) / "run" / "best.h5", Path(dest) / "images"
