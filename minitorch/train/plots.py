"""Pictures of a run: the learning curves (curves.png) and a confusion matrix.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, so no global backend is chosen
for the host program and nothing needs a display), rendered to memory and written atomically: a
kill while plotting never leaves a half-written PNG behind.
"""
import io

import numpy as np

from minitorch.io.atomic import atomic_write_bytes

__all__ = ["plot_curves", "plot_confusion"]


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
    fig.tight_layout()
    _save(fig, path)


def plot_confusion(matrix, class_names, path, title=None):
    """A confusion matrix (rows: true class, columns: predicted) with counts in the cells."""
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    side = max(4.0, 0.5 * k + 2.5)
    fig = _figure(side, side)
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    names = [str(c) for c in class_names]
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    if k <= 30:  # beyond that the numbers would not fit in the cells
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > threshold else "black")
    ax.set_title(title or "confusion matrix")
    fig.tight_layout()
    _save(fig, path)
