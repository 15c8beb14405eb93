"""``minitorch-evaluate``: a checkpoint's accuracy, loss and confusion matrix on the validation
split of its config (the one stored in the checkpoint unless another is given).

The split is a function of the config's seed and val_fraction, so it is exactly the split the run
validated on; the normalisation statistics the run used travel in the checkpoint.
"""
import os
import sys

import numpy as np
import yaml

import minitorch as mt
from minitorch import nn
from minitorch.data import DataLoader
from minitorch.io import load_checkpoint
from minitorch.nn.module import StateDictError

from . import build
from .config import apply_overrides, config_from_dict, load_config
from .errors import TrainerError
from .metrics import EpochMeter, confusion_matrix
from .plots import plot_confusion

__all__ = ["evaluate_checkpoint", "format_confusion"]


def _config_of(ckpt, path, config_path, overrides):
    if config_path is not None:
        return load_config(config_path, overrides)
    if ckpt.get("config") is None:
        raise TrainerError(f"{path} stores no config: pass one with --config")
    raw = yaml.safe_load(ckpt["config"]) or {}
    problems = []
    apply_overrides(raw, overrides, problems)
    if problems:
        raise TrainerError(f"--set: {'; '.join(problems)}")
    return config_from_dict(raw, source=f"{path} (stored config)")


def _load_model(config, ckpt, path, num_classes):
    from models import resnet18
    m = config.model
    head = ckpt["model"].get("fc.weight")
    if head is not None and int(head.shape[0]) != num_classes:
        raise TrainerError(f"{path} has a {int(head.shape[0])}-class head but the data has "
                           f"{num_classes} classes: check data.classes")
    model = resnet18(num_classes=num_classes, variant=m.variant, width=m.width,
                     in_channels=m.in_channels)
    try:
        model.load_state_dict(ckpt["model"])
    except StateDictError as error:
        lines = str(error).splitlines()
        raise TrainerError(f"{path} does not fit the config's model: "
                           f"{lines[1].strip() if len(lines) > 1 else lines[0]}") from None
    return model.eval()


def _run(model, dataset, batch_size, num_classes):
    criterion, meter, preds, targets = nn.CrossEntropyLoss(), EpochMeter(), [], []
    with mt.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size):
            logits = model(x)
            meter.update(criterion(logits, y).item(), logits._data, y)
            preds.append(logits._data.argmax(axis=1))
            targets.append(y._data)
    matrix = confusion_matrix(np.concatenate(preds), np.concatenate(targets), num_classes)
    return meter.loss, meter.acc, matrix


def format_confusion(matrix, class_names):
    """The confusion matrix as aligned text: rows true classes, columns predictions."""
    names = [str(c) for c in class_names]
    width = max(max(map(len, names)), len(str(int(matrix.max()) if matrix.size else 0)), 4)
    header = " " * (width + 2) + " ".join(n.rjust(width) for n in names)
    rows = [f"{names[i].rjust(width)}  " + " ".join(str(int(v)).rjust(width) for v in row)
            for i, row in enumerate(matrix)]
    return "\n".join(["true \\ predicted", header] + rows)


def evaluate_checkpoint(path, config_path=None, overrides=(), out=None):
    """Print and return (loss, accuracy, confusion matrix); save confusion.png beside ``path``."""
    try:
        ckpt = load_checkpoint(path)
    except (OSError, ValueError) as exc:
        raise TrainerError(f"checkpoint: {exc}") from None
    config = _config_of(ckpt, path, config_path, overrides)
    extra = ckpt.get("extra") or {}
    stats = {k: extra[k] for k in ("mean", "std") if extra.get(k) is not None}
    _, val_set, class_names, _, _ = build.build_data(config, stats)
    model = _load_model(config, ckpt, path, len(class_names))
    loss, acc, matrix = _run(model, val_set, config.data.batch_size, len(class_names))
    out = out or sys.stdout
    picture = os.path.join(os.path.dirname(os.path.abspath(path)), "confusion.png")
    # The results first: a folder that refuses the picture (read-only, full) still gets them.
    print(f"checkpoint {path} (epoch {ckpt['epoch']}), {len(val_set)} validation samples",
          file=out)
    print(f"val_loss {loss:.4f}  val_acc {acc:.4f}", file=out)
    print(format_confusion(matrix, class_names), file=out, flush=True)
    plot_confusion(matrix, class_names, picture,
                   title=f"{os.path.basename(path)}: val_acc {acc:.4f}")
    print(f"confusion matrix saved to {picture}", file=out, flush=True)
    return loss, acc, matrix
