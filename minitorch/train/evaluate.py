"""``minitorch-evaluate``: a checkpoint's accuracy, loss and confusion matrix on the validation
split of its config (the one stored in the checkpoint unless another is given); with ``--data``,
any classifier file scored on a whole labelled folder or npz with its recorded eval transform.

The split is a function of the config's seed and val_fraction, so it is exactly the split the run
validated on; the normalisation statistics the run used travel in the checkpoint.
"""
import os
import sys

import numpy as np

import minitorch as mt
from minitorch import nn
from minitorch.data import DataLoader
from minitorch.io import load_checkpoint
from minitorch.nn.module import StateDictError
from minitorch.ops import conv as conv_ops

from . import build
from .classifier import stored_eval_resize
from .config import apply_overrides, config_from_dict, load_config
from .errors import TrainerError
from .metrics import EpochMeter, confusion_matrix
from .plots import plot_confusion

__all__ = ["evaluate_checkpoint", "format_confusion", "evaluate_data", "per_class_metrics",
           "row_normalised", "format_report"]


def _config_of(ckpt, path, config_path, overrides):
    if config_path is not None:
        return load_config(config_path, overrides)
    if ckpt.get("config") is None:
        raise TrainerError(f"{path} stores no config: pass one with --config")
    raw = dict(ckpt.get("config_dict") or {})   # parsed (bounded) when the checkpoint was read
    raw = stored_eval_resize(raw)   # a run from before data.eval_resize: as it validated
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
        hint = "; a weights file is scored with --data FOLDER_OR_NPZ" \
            if "not a checkpoint" in str(exc) else ""
        raise TrainerError(f"checkpoint: {exc}{hint}") from None
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


# ----- a whole labelled folder or npz, with the file's recorded eval transform ----------------

def _folder_samples(root, clf):
    """(paths, targets) of root/<class>/<image>; every class folder must be one of the file's."""
    from minitorch.data.datasets.image_folder import find_classes
    from .predict import images_under
    index = {name: i for i, name in enumerate(clf.class_names)}
    paths, targets = [], []
    for name in find_classes(root):
        if name not in index:
            raise TrainerError(f"--data: {root} has a folder {name!r} that is not one of the "
                               f"classes of {clf.path} ({', '.join(clf.class_names)})")
        found = images_under(os.path.join(root, name))
        paths += found
        targets += [index[name]] * len(found)
    if not paths:
        raise TrainerError(f"--data: {root} holds no images in its class folders")
    return paths, np.asarray(targets, dtype=np.int64)


def _npz_targets(y, names, clf, path):
    """The file's class index of each npz label: by the npz's class_names, else by the label's
    value as a class name (digits 5-9), else the label is the index itself."""
    index = {name: i for i, name in enumerate(clf.class_names)}
    if names is not None:
        labels = [names[v] if v < len(names) else str(v) for v in y]
    elif all(str(v) in index for v in np.unique(y)):
        labels = [str(v) for v in y]
    else:
        if y.size and y.max() >= len(clf.class_names):
            raise TrainerError(f"--data: {path} has label {int(y.max())} but {clf.path} has "
                               f"{len(clf.class_names)} classes")
        return y.astype(np.int64)
    unknown = sorted({label for label in labels if label not in index})
    if unknown:
        raise TrainerError(f"--data: {path} has class {unknown[0]!r}, not one of the classes "
                           f"of {clf.path} ({', '.join(clf.class_names)})")
    return np.asarray([index[label] for label in labels], dtype=np.int64)


def _score_npz(clf, path, batch_size):
    from minitorch.data.datasets.npz import load_npz_arrays
    x, y, names = load_npz_arrays(path)
    targets = _npz_targets(y, names, clf, path)
    probs = [clf.probabilities(clf.transform.arrays(x[i:i + batch_size]))
             for i in range(0, len(x), batch_size)]
    ids = [f"{os.path.basename(path)}[{i}]" for i in range(len(x))]
    return ids, np.concatenate(probs), targets


def _score_folder(clf, root, batch_size):
    from tqdm import tqdm
    from .predict import predict_paths
    paths, targets = _folder_samples(root, clf)
    with tqdm(total=len(paths), desc="evaluate", unit="img", file=sys.stderr, disable=None,
              leave=False) as bar:
        scored = list(predict_paths(clf, paths, batch_size, progress=bar))
    return paths, np.stack([p for _, p in scored]), targets


def per_class_metrics(matrix):
    """(precision, recall, f1, support) per class from a confusion matrix (rows: true);
    0 where a ratio has nothing to divide by, as scikit-learn's zero_division=0."""
    matrix = np.asarray(matrix, dtype=np.float64)
    tp, predicted, support = np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0)
    return precision, recall, f1, support.astype(np.int64)


def row_normalised(matrix):
    """Each row of the confusion matrix divided by its sum (the recall of each true class)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros_like(matrix), where=sums > 0)


def format_report(matrix, class_names):
    """Per-class precision, recall, F1 and support as aligned text, with the macro average."""
    precision, recall, f1, support = per_class_metrics(matrix)
    width = max(max(len(str(c)) for c in class_names), len("macro avg"))
    lines = [f"{'class'.ljust(width)}  precision  recall      f1  support"]
    for i, name in enumerate(class_names):
        lines.append(f"{str(name).ljust(width)}  {precision[i]:9.4f}  {recall[i]:6.4f}  "
                     f"{f1[i]:6.4f}  {support[i]:7d}")
    lines.append(f"{'macro avg'.ljust(width)}  {precision.mean():9.4f}  {recall.mean():6.4f}  "
                 f"{f1.mean():6.4f}  {support.sum():7d}")
    return "\n".join(lines)


def format_normalised(matrix, class_names):
    """The row-normalised confusion matrix as aligned text (two decimals)."""
    names = [str(c) for c in class_names]
    width = max(max(map(len, names)), 4)
    rows = [f"{names[i].rjust(width)}  " + " ".join(f"{v:.2f}".rjust(width) for v in row)
            for i, row in enumerate(row_normalised(matrix))]
    header = " " * (width + 2) + " ".join(n.rjust(width) for n in names)
    return "\n".join(["true \\ predicted (row-normalised)", header] + rows)


def _misclassified_csv(ids, probs, targets, class_names):
    import csv
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "true", "predicted", "probability", "true_probability"])
    predicted = probs.argmax(axis=1)
    for i in np.flatnonzero(predicted != targets):
        writer.writerow([ids[i], class_names[targets[i]], class_names[predicted[i]],
                         f"{probs[i, predicted[i]]:.6g}", f"{probs[i, targets[i]]:.6g}"])
    return buf.getvalue()


def evaluate_data(path, data, out_dir=None, batch_size=32, out=None):
    """Score classifier file ``path`` on every sample of ``data`` (a labelled folder or .npz);
    print accuracy (top-5 too with more than 5 classes), per-class metrics and the confusion
    matrix, then write ``<data>_confusion.png`` and ``<data>_misclassified.csv`` into
    ``out_dir`` (default: beside ``path``). Returns the exit code: 2 if they cannot be written
    (the results are printed first)."""
    from minitorch.data.errors import DataFileNotFoundError
    from minitorch.io.atomic import atomic_write_text
    from .classifier import load_classifier
    from .plots import plot_confusion_pair
    clf, out = load_classifier(path), out or sys.stdout
    if not os.path.exists(data):
        raise DataFileNotFoundError(f"--data: no such folder or npz file: {data}")
    from minitorch import runtime  # an empty numba cache is said and compiled in 2 processes
    runtime.compile_if_cold(model=clf.model, image_size=clf.transform.image_size,
                            inference=True)
    score = _score_folder if os.path.isdir(data) else _score_npz
    with conv_ops.forward_once():   # (as minitorch-predict: each sample's forward runs once)
        ids, probs, targets = score(clf, data, batch_size)
    names, k = clf.class_names, len(clf.class_names)
    matrix = confusion_matrix(probs.argmax(axis=1), targets, k)
    acc = float(np.mean(probs.argmax(axis=1) == targets))
    line = f"accuracy {acc:.4f}"
    if k > 5:
        top5 = np.argsort(-probs, axis=1, kind="stable")[:, :5]
        line += f"  top-5 {float(np.mean((top5 == targets[:, None]).any(axis=1))):.4f}"
    print(f"{path} on {data}: {len(targets)} samples, {k} classes", file=out)
    print(line, file=out)
    print(format_report(matrix, names), file=out)
    print(format_confusion(matrix, names), file=out)
    print(format_normalised(matrix, names), file=out, flush=True)
    stem = os.path.splitext(os.path.basename(os.path.normpath(data)))[0]
    folder = out_dir or os.path.dirname(path) or "."
    picture = os.path.join(folder, f"{stem}_confusion.png")
    table = os.path.join(folder, f"{stem}_misclassified.csv")
    try:
        os.makedirs(folder, exist_ok=True)
        plot_confusion_pair(matrix, row_normalised(matrix), names, picture,
                            title=f"{os.path.basename(path)} on {stem}: accuracy {acc:.4f}")
        atomic_write_text(table, _misclassified_csv(ids, probs, targets, names))
    except OSError as exc:
        print(f"error: cannot write the results into {folder}: "
              f"{exc.strerror or exc} (choose another folder with --out)", file=sys.stderr)
        return 2
    wrong = int(np.count_nonzero(probs.argmax(axis=1) != targets))
    print(f"confusion matrix saved to {picture}; {wrong} misclassified listed in {table}",
          file=out, flush=True)
    return 0
