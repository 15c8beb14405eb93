"""Metrics of a training run: accuracy, confusion matrix, per-epoch sums, and metrics.jsonl.

Sums, not means, are accumulated (loss x samples, correct predictions, samples), so data-parallel
ranks can add their sums with one all-reduce and every sample weighs the same in the epoch's mean.

``metrics.jsonl`` holds one JSON object per finished epoch. ``MetricsLog.append`` writes a whole
line and fsyncs it; ``MetricsLog.rewrite`` replaces the file atomically with a given history, which
is how a resumed run drops epochs that ran after its checkpoint (every epoch appears exactly once,
whenever the previous run was killed).
"""
import json
import math
import os

import numpy as np

from minitorch.io.atomic import atomic_write_text

__all__ = ["count_correct", "accuracy", "confusion_matrix", "EpochMeter", "MetricsLog",
           "read_metrics"]


def _array(x):
    return np.asarray(getattr(x, "_data", x))


def count_correct(logits, targets):
    """How many rows of ``logits`` (N, C) have their argmax at ``targets`` (N,)."""
    logits, targets = _array(logits), _array(targets)
    if logits.ndim != 2 or targets.shape != (logits.shape[0],):
        raise ValueError(f"count_correct: expected logits (N, C) and targets (N,), got "
                         f"{logits.shape} and {targets.shape}")
    return int(np.count_nonzero(logits.argmax(axis=1) == targets))


def accuracy(logits, targets):
    """Fraction of correct argmax predictions (0.0 for an empty batch)."""
    n = _array(targets).shape[0]
    return count_correct(logits, targets) / n if n else 0.0


def confusion_matrix(predictions, targets, num_classes):
    """(num_classes, num_classes) int64 counts: row = true class, column = predicted class
    (scikit-learn's convention)."""
    predictions = _array(predictions).astype(np.int64).reshape(-1)
    targets = _array(targets).astype(np.int64).reshape(-1)
    if predictions.shape != targets.shape:
        raise ValueError(f"confusion_matrix: {predictions.size} predictions for "
                         f"{targets.size} targets")
    for name, values in (("prediction", predictions), ("target", targets)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            bad = values[(values < 0) | (values >= num_classes)][0]
            raise ValueError(f"confusion_matrix: {name} {bad} outside [0, {num_classes})")
    flat = np.bincount(targets * num_classes + predictions, minlength=num_classes ** 2)
    return flat.reshape(num_classes, num_classes)


class EpochMeter:
    """Running sums over an epoch's batches: ``update`` per batch, ``loss``/``acc`` so far."""

    def __init__(self):
        self.loss_sum, self.correct, self.count = 0.0, 0, 0

    def update(self, loss_value, logits, targets):
        """Add a batch whose mean loss is ``loss_value``."""
        n = int(_array(targets).shape[0])
        self.add(float(loss_value) * n, logits, targets)

    def add(self, loss_sum, logits, targets):
        """Add a batch whose losses sum to ``loss_sum`` (a batch may be empty: adds nothing)."""
        n = int(_array(targets).shape[0])
        if n:
            self.loss_sum += float(loss_sum)
            self.correct += count_correct(logits, targets)
            self.count += n

    def sums(self):
        """The sums as a dict (what ranks all-reduce)."""
        return {"loss_sum": self.loss_sum, "correct": self.correct, "count": self.count}

    @staticmethod
    def means(sums):
        """(mean loss, accuracy) from a dict of sums; NaN loss and 0 accuracy when empty."""
        count = sums["count"]
        if not count:
            return math.nan, 0.0
        return float(sums["loss_sum"]) / count, float(sums["correct"]) / count

    @property
    def loss(self):
        return self.means(self.sums())[0]

    @property
    def acc(self):
        return self.means(self.sums())[1]


def read_metrics(path):
    """The whole, parseable lines of a metrics.jsonl file (a torn last line is skipped)."""
    if not os.path.exists(path):
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break  # a line cut by a kill: never finished, never counted
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return records


class MetricsLog:
    """The run's metrics.jsonl file."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def rewrite(self, records):
        """Replace the file with exactly ``records`` (atomically)."""
        atomic_write_text(self.path, "".join(_line(r) for r in records))

    def append(self, record):
        """Add one finished epoch, flushed to disk before returning. A write the disk refuses
        (full, file-size limit) is cut back to the file's previous length before the error
        propagates, so the file never keeps half a line."""
        data = _line(record).encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:   # unbuffered: nothing is left to flush when an error is raised
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass   # a torn last line is still skipped by read_metrics
                raise
        finally:
            os.close(fd)

    def read(self):
        return read_metrics(self.path)


def _line(record):
    # allow_nan=False would reject a diverged loss; write NaN as null so the file stays JSON.
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in record.items()}
    return json.dumps(clean) + "\n"
