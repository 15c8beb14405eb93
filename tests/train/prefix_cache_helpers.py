"""Tiny runs for the frozen-prefix cache tests: a 60-sample npz of 8x8 images, a width-4 small
ResNet-18, a Trainer whose output is captured (the cache's notes are part of what is tested)."""
import io
from pathlib import Path

import numpy as np

from .helpers import checkpoint_arrays, make_weights, write_config

CONV1_TO_LAYER2 = ["conv1", "bn1", "layer1", "layer2"]


def make_npz(path, n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.random((n, 3, 8, 8), dtype=np.float32) * 0.5
    x[y == 1, :, :, :4] += 0.5          # a learnable left/right difference (flip matters)
    np.savez(path, x=x, y=y)
    return Path(path)


def make_inputs(tmp):
    """(npz path, weights path, other weights path) in ``tmp``."""
    tmp = Path(tmp)
    return (make_npz(tmp / "data.npz"), make_weights(tmp / "w.h5", num_classes=2),
            make_weights(tmp / "w_other.h5", num_classes=2, seed=7))


def cache_config(out, data, weights, freeze=CONV1_TO_LAYER2, augment=None, epochs=3, **train):
    return {
        "seed": 0,
        "model": {"arch": "resnet18", "variant": "small", "width": 4, "weights": str(weights),
                  "num_classes": 2, "freeze": freeze},
        "data": {"dataset": "npz", "root": str(data), "image_size": 8, "val_fraction": 0.25,
                 "batch_size": 16, "mean": [0.5], "std": [0.3],
                 "augment": augment if augment is not None else
                 {"horizontal_flip": True, "random_crop": True, "padding": 1}},
        "train": {"epochs": epochs, "optimizer": {"lr": 0.05, "momentum": 0.9},
                  "scheduler": {"name": "cosine"}, **train},
        "output": {"dir": str(out), "plot": False},
    }


def make_trainer(tmp, cfg, name="run", trainer_class=None, resume=None):
    """A Trainer for ``cfg`` (its log in ``trainer.out``)."""
    from minitorch.train.config import load_config
    from minitorch.train.trainer import Trainer
    config = load_config(write_config(Path(tmp) / f"{name}.yaml", cfg))
    return (trainer_class or Trainer)(config, resume=resume, out=io.StringIO())


def train(tmp, cfg, name="run", trainer_class=None, resume=None):
    """(checkpoint arrays of last.h5, the log text, the trainer) after ``fit``."""
    trainer = make_trainer(tmp, cfg, name, trainer_class, resume)
    trainer.fit()
    return (checkpoint_arrays(Path(cfg["output"]["dir"]) / "last.h5"),
            trainer.out.getvalue(), trainer)
