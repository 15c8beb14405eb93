"""Pictures of a run: the learning curves (curves.png) and a confusion matrix.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, so no global backend is chosen
for the host program and nothing needs a display), rendered to memory and written atomically: a
kill while plotting never leaves a half-written PNG behind.
"""
import io

import numpy as np

from minitorch.io.atomic import atomic_write_bytes

__all__ = ["plot_curves", "plot_confusion", "plot_confusion_pair"]


def _figure(width, height):
    # Imported late: matplotlib costs ~0.3 s to import and only plotting needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())


def _series(records, key):
    xs = [r["epoch"] for r in records if r.get(key) is not None]
    ys = [r[key] for r in records if r.get(key) is not None]
    return xs, ys


def plot_curves(records, path, title=None):
    """Loss, accuracy and learning rate per epoch from metrics.jsonl ``records``, as a PNG."""
    fig = _figure(12, 3.6)
    axes = fig.subplots(1, 3)
    for ax, (name, keys) in zip(axes, (("loss", ("train_loss", "val_loss")),
                                       ("accuracy", ("train_acc", "val_acc")),
                                       ("learning rate", ("lr",)))):
        for key in keys:
            xs, ys = _series(records, key)
            ax.plot(xs, ys, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend()
    axes[1].set_ylim(0.0, 1.0)
    if title:
        fig.suptitle(title)
    # fixed margins rather than tight_layout, which measures every label (a third of the
    # drawing's time); three panels of the same kind fit these
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.84 if title else 0.9,
                        wspace=0.22)
    _save(fig, path)


def plot_confusion(matrix, class_names, path, title=None):
    """A confusion matrix (rows: true class, columns: predicted) with counts in the cells."""
    matrix = np.asarray(matrix)
    side = max(4.0, 0.5 * matrix.shape[0] + 2.5)
    fig = _figure(side, side)
    _draw_confusion(fig, fig.subplots(), matrix, class_names, "{:d}", title or "confusion matrix")
    fig.tight_layout()
    _save(fig, path)


def plot_confusion_pair(matrix, normalised, class_names, path, title=None):
    """Counts and the row-normalised matrix side by side."""
    matrix = np.asarray(matrix)
    side = max(4.0, 0.5 * matrix.shape[0] + 2.5)
    fig = _figure(2 * side, side)
    left, right = fig.subplots(1, 2)
    _draw_confusion(fig, left, matrix, class_names, "{:d}", "counts")
    _draw_confusion(fig, right, np.asarray(normalised), class_names, "{:.2f}", "row-normalised")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


def _draw_confusion(fig, ax, values, class_names, fmt, title):
    k = values.shape[0]
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    names = [str(c) for c in class_names]
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = values.max() / 2 if values.size else 0
    if k <= 30:  # beyond that the numbers would not fit in the cells
        for i in range(k):
            for j in range(k):
                value = values[i, j]
                ax.text(j, i, fmt.format(int(value) if fmt == "{:d}" else value), ha="center",
                        va="center", fontsize=8,
                        color="white" if value > threshold else "black")
    ax.set_title(title)
