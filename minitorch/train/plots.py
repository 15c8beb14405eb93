"""Pictures of a run: the learning curves (curves.png) and a confusion matrix.

The curves, drawn by every run, are drawn with Pillow (``chart.py``). The confusion matrices are
drawn on matplotlib's Agg canvas directly (no pyplot, so no global backend is chosen
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
    """Loss, accuracy and learning rate per epoch from metrics.jsonl ``records``, as a PNG.

    Drawn with Pillow (``chart.py``), not matplotlib: every run draws this figure, and importing
    matplotlib alone took a quarter of the digits job's warm run (1.7 of 8 CPU s); the drawing
    itself takes ~30 ms.
    """
    from .chart import Panel, render_panels
    panels = [Panel(name, [(key, *_series(records, key)) for key in keys], xlabel="epoch",
                    ylim=ylim)
              for name, keys, ylim in (("loss", ("train_loss", "val_loss"), None),
                                       ("accuracy", ("train_acc", "val_acc"), (0.0, 1.0)),
                                       ("learning rate", ("lr",), None))]
    atomic_write_bytes(path, render_panels(panels, 1200, 360, title=title))


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
