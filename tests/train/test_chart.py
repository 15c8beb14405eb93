"""The Pillow line charts behind curves.png: ticks, colours where the data is, odd values."""
import io
import math

import numpy as np
import pytest
from PIL import Image

from minitorch.train.chart import COLORS, Panel, nice_ticks, render_panels
from minitorch.train.plots import plot_curves


@pytest.mark.parametrize("lo, hi, integer, expected", [
    (0.0, 1.0, False, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (0.55, 10.45, True, [2.0, 4.0, 6.0, 8.0, 10.0]),
    (0.0, 0.1, False, [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]),
    (0.5, 1.5, True, [1.0]),   # one epoch: whole-number ticks only
])
def test_nice_ticks(lo, hi, integer, expected):
    assert nice_ticks(lo, hi, integer=integer) == pytest.approx(expected)


def _pixels(png):
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB")).astype(int)


def _near(pixels, color, tol=40):
    return (np.abs(pixels - np.array(color)).sum(axis=-1) < tol)


def test_each_series_is_drawn_in_its_colour_inside_its_panel():
    rising = Panel("a", [("up", [1, 2, 3], [0.0, 1.0, 2.0]), ("down", [1, 2, 3], [2.0, 1.0, 0.0])])
    single = Panel("b", [("flat", [1, 2, 3], [5.0, 5.0, 5.0])])
    pixels = _pixels(render_panels([rising, single], 600, 240, title="run"))
    assert pixels.shape == (240, 600, 3)
    blue, orange = _near(pixels, COLORS[0]), _near(pixels, COLORS[1])
    left, right = slice(0, 300), slice(300, 600)
    assert blue[:, left].sum() > 100 and orange[:, left].sum() > 100
    assert blue[:, right].sum() > 100 and orange[:, right].sum() == 0   # one series: blue only
    # "up" rises left to right: its leftmost blue pixels are lower than its rightmost ones
    rows, cols = np.nonzero(blue[:, left])
    assert rows[cols == cols.min()].mean() > rows[cols == cols.max()].mean()


def test_odd_values_do_not_break_the_picture():
    """NaN and inf break a line (as in matplotlib), an empty or one-point series still draws."""
    panels = [Panel("nan", [("loss", [1, 2, 3, 4], [1.0, math.nan, math.inf, 0.5])]),
              Panel("empty", [("x", [], []), ("y", [], [])]),
              Panel("one", [("lr", [1], [1e-5])])]
    pixels = _pixels(render_panels(panels, 900, 300))
    assert _near(pixels, COLORS[0])[:, :300].sum() > 20   # the finite points are there


def test_curves_png_has_the_three_panels(tmp_path):
    records = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_acc": 0.5 + e / 20,
                "val_acc": 0.4 + e / 20, "lr": 0.1 / e} for e in range(1, 11)]
    path = tmp_path / "curves.png"
    plot_curves(records, path, title="runs/x")
    pixels = _pixels(path.read_bytes())
    assert pixels.shape == (360, 1200, 3)
    orange = _near(pixels, COLORS[1])
    # train/val in the loss and accuracy panels (orange), the lr panel has one series (blue)
    assert orange[:, :400].sum() > 100 and orange[:, 400:800].sum() > 100
    assert orange[:, 800:].sum() == 0 and _near(pixels, COLORS[0])[:, 800:].sum() > 100
