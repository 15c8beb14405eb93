"""What a resumed run checks in its checkpoint before it writes anything, and the restore.

``load_checkpoint`` already validated the file's own schema (types and ranges of every field);
here the checkpoint is checked against the run: its history must be whole and agree with its
epoch, and the data it was trained on must be the data of this config (same dataset, root,
classes, image size, split and seed), or the continued run would silently mix two experiments.
``--resume-anyway`` (``resume_anyway=True``) goes on despite a data difference.

The validation policy is part of the data: a photo run from before ``data.eval_resize`` existed
validated at ``image_size`` (no Resize(256)). Resumed with the key unset, it keeps doing so
(``keep_eval_resize``, before the datasets are built); a key set to another policy is a data
difference like the others.
"""
import dataclasses
import math
import os
from numbers import Real

from minitorch.io import load_checkpoint, load_optimizer_state_by_name, restore_rng_state
from minitorch.nn.module import StateDictError

from minitorch.data.transforms import eval_resize_for

from . import build
from .classifier import stored_eval_resize
from .errors import TrainerError

__all__ = ["resolve_resume_path", "read_resume_checkpoint", "keep_eval_resize",
           "check_history", "data_identity_differences", "restore_checkpoint", "HISTORY_KEYS"]

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


def read_resume_checkpoint(path):
    """The checkpoint to resume from, read once (schema checked); TrainerError if unreadable."""
    try:
        return load_checkpoint(path)
    except (OSError, ValueError) as exc:
        raise TrainerError(f"--resume: {exc}") from None


def keep_eval_resize(config, stored):
    """(config, note): ``config`` with ``data.eval_resize`` set to the run's image size when
    the checkpoint's stored config (a dict) predates the key and this config leaves it unset,
    so the resumed run validates as it did; note says so (None when nothing changed)."""
    data = config.data
    filled = stored_eval_resize(stored)
    if filled is stored or data.dataset != "image_folder" or data.eval_resize is not None:
        return config, None
    size = filled["data"]["eval_resize"]
    if not isinstance(size, int) or isinstance(size, bool) or size < data.image_size:
        return config, None   # another image size: a data difference, reported as such
    kept = dataclasses.replace(config, data=dataclasses.replace(data, eval_resize=size))
    return kept, (f"data.eval_resize: {size}, as this run validated before the key existed "
                  f"(set data.eval_resize to change it; null is now torchvision's "
                  f"{eval_resize_for(data.image_size)})")


def _eval_size(data, image_size):
    """The shorter side a photo run validates at: eval_resize, null meaning torchvision's."""
    size = data.get("eval_resize") if isinstance(data, dict) else data
    return eval_resize_for(image_size) if size is None else size


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
        if data.get("dataset") == config.data.dataset == "image_folder" \
                and data.get("image_size") == config.data.image_size:
            old = stored_eval_resize(stored)["data"]   # a run from before the key: image_size
            pairs.append(("data.eval_resize", _eval_size(old, config.data.image_size),
                          _eval_size(config.data.eval_resize, config.data.image_size)))
        for key, old, new in pairs:
            if not _same(old, new):
                diffs.append(f"{key}: {old!r} -> {new!r}")
    if stored_class_names is not None and list(map(str, stored_class_names)) != \
            list(map(str, class_names)):
        diffs.append(f"class names: {list(stored_class_names)!r} -> {list(class_names)!r}")
    return diffs


def restore_checkpoint(trainer, path, resume_anyway=False, ckpt=None):
    """Check everything in the checkpoint (``ckpt``: already read from ``path``) against this
    run, then restore it (in memory: nothing is written here)."""
    if ckpt is None:
        ckpt = read_resume_checkpoint(path)
    extra = ckpt.get("extra") or {}
    epoch = ckpt["epoch"]   # an int in [0, MAX_EPOCH]: the schema checked it
    history = check_history(extra, epoch, path)
    differences = data_identity_differences(trainer.config, ckpt["config_dict"],
                                            trainer.class_names, extra.get("class_names"))
    if differences and not resume_anyway:
        raise TrainerError(f"--resume: {path} was trained on other data than this config "
                           f"describes ({'; '.join(differences)}): fix the config, or pass "
                           f"--resume-anyway to continue on this config's data")
    try:
        trainer.model.load_state_dict(ckpt["model"])
    except StateDictError as error:
        first = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 \
            else str(error)
        raise TrainerError(f"--resume: {path} does not fit the model of this config: "
                           f"{first}") from None
    # Replay the schedule first (from the config's base lr; plateau on the recorded
    # metrics), then take the optimizer's state (momentum buffers, moments) and put the
    # replayed lrs back over the saved ones. A checkpoint at or past train.epochs has
    # nothing left to train: no replay at all.
    if epoch < trainer.config.train.epochs:
        build.fast_forward_scheduler(trainer.scheduler, epoch, trainer.config, history)
    keys = build.scheduled_keys(trainer.scheduler)   # lr, and momentum/beta1 for onecycle
    replayed = [{k: g[k] for k in keys if k in g} for g in trainer.optimizer.param_groups]
    if ckpt.get("optimizer") is not None:
        try:
            load_optimizer_state_by_name(trainer.optimizer, trainer.model, ckpt["optimizer"])
        except (ValueError, TypeError, KeyError) as exc:
            raise TrainerError(f"--resume: {path}: checkpoint field 'optimizer' does not fit "
                               f"this run's optimizer: {exc}") from None
    for group, values in zip(trainer.optimizer.param_groups, replayed):
        group.update(values)
    if "rng" in ckpt:
        restore_rng_state(ckpt["rng"])   # validated on reading
    trainer.history = history
    trainer.recipes.resume(history)   # early stopping replays the recorded metrics
    trainer.epoch, trainer.global_step = epoch, ckpt["global_step"]
    if os.path.abspath(path) == os.path.abspath(os.path.join(trainer.out_dir, "last.h5")):
        trainer.guard.saved_epoch = epoch
