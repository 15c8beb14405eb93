"""What a resumed run checks in its checkpoint before it writes anything.

``load_checkpoint`` already validated the file's own schema (types and ranges of every field);
here the checkpoint is checked against the run: its history must be whole and agree with its
epoch, and the data it was trained on must be the data of this config (same dataset, root,
classes, image size, split and seed), or the continued run would silently mix two experiments.
``--resume-anyway`` (``resume_anyway=True``) goes on despite a data difference.
"""
import math
import os
from numbers import Real

from .errors import TrainerError

__all__ = ["resolve_resume_path", "check_history", "data_identity_differences",
           "HISTORY_KEYS"]

# Every metrics record holds these (numbers, or null for a non-finite value).
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr")


def resolve_resume_path(resume, out_dir):
    """The checkpoint to resume from: None (fresh), ``auto`` (last.h5 if present) or a path."""
    if resume is None:
        return None
    if resume == "auto":
        path = os.path.join(out_dir, "last.h5")
        if not os.path.lexists(path):
            return None
        if not os.path.isfile(path):
            raise TrainerError(f"--resume auto: {path} exists but is not a file (a folder or a "
                               f"dangling link): move it away, or resume from a PATH")
        return path
    if os.path.isdir(resume):
        raise TrainerError(f"--resume: {resume} is a folder, not a checkpoint file")
    if not os.path.isfile(resume):
        raise TrainerError(f"--resume: checkpoint not found: {resume}")
    return resume


def _is_number(value):
    return value is None or (isinstance(value, Real) and not isinstance(value, bool))


def check_history(extra, epoch, path):
    """The checkpoint's metrics history, checked: a list of ``epoch`` records numbered 1..epoch,
    each with the ``HISTORY_KEYS`` as numbers (or null). A checkpoint without one (written by
    hand with ``save_checkpoint``) resumes with an empty history."""
    if "history" not in extra:
        return []
    history = extra["history"]
    if not isinstance(history, (list, tuple)):
        raise TrainerError(f"--resume: {path}: checkpoint field 'extra.history' must be a list "
                           f"of epoch records, got {type(history).__name__}")
    if len(history) != epoch:
        raise TrainerError(f"--resume: {path}: checkpoint field 'extra.history' holds "
                           f"{len(history)} epochs but field 'epoch' is {epoch}")
    records = []
    for i, record in enumerate(history):
        field = f"extra.history[{i}]"
        if not isinstance(record, dict):
            raise TrainerError(f"--resume: {path}: checkpoint field '{field}' must be a dict, "
                               f"got {type(record).__name__}")
        missing = [k for k in HISTORY_KEYS if k not in record]
        if missing:
            raise TrainerError(f"--resume: {path}: checkpoint field '{field}' lacks "
                               f"{', '.join(missing)}")
        bad = [k for k in HISTORY_KEYS if not _is_number(record[k])]
        if bad:
            raise TrainerError(f"--resume: {path}: checkpoint field '{field}.{bad[0]}' must be "
                               f"a number or null, got {record[bad[0]]!r:.60}")
        if record["epoch"] != i + 1:
            raise TrainerError(f"--resume: {path}: checkpoint field '{field}.epoch' is "
                               f"{record['epoch']!r}, expected {i + 1}")
        records.append(dict(record))
    return records


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _root(value):
    return None if value is None else os.path.normpath(os.path.abspath(str(value)))


def data_identity_differences(config, stored, class_names, stored_class_names):
    """``key: checkpoint value -> config value`` for every data-identity difference between the
    config and the checkpoint's stored config (a dict) and class names."""
    diffs = []
    if isinstance(stored, dict):
        data = stored.get("data") if isinstance(stored.get("data"), dict) else {}
        pairs = [("seed", stored.get("seed"), config.seed),
                 ("data.dataset", data.get("dataset"), config.data.dataset),
                 ("data.root", _root(data.get("root")), _root(config.data.root)),
                 ("data.classes", data.get("classes"), config.data.classes),
                 ("data.image_size", data.get("image_size"), config.data.image_size),
                 ("data.val_fraction", data.get("val_fraction"), config.data.val_fraction)]
        for key, old, new in pairs:
            if not _same(old, new):
                diffs.append(f"{key}: {old!r} -> {new!r}")
    if stored_class_names is not None and list(map(str, stored_class_names)) != \
            list(map(str, class_names)):
        diffs.append(f"class names: {list(stored_class_names)!r} -> {list(class_names)!r}")
    return diffs
