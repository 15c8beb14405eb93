"""A small line-chart renderer on Pillow, for the learning curves every run draws.

matplotlib draws the same panels well but costs ~1.7 CPU s to import, a quarter of the digits
job's warm run; Pillow imports in ~25 ms and draws these panels in a few tens of ms. Only what
curves.png needs is here: side-by-side panels, each with a frame, "nice" ticks, a light grid,
lines with round markers, a legend and a title. The picture is drawn at twice its size and
scaled down, which smooths the lines (Pillow's own lines are not anti-aliased).
"""
import io
import math

from PIL import Image, ImageDraw, ImageFont

__all__ = ["COLORS", "Panel", "nice_ticks", "render_panels"]

# matplotlib's first colours, so the curves look as they did
COLORS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189))
_SCALE = 2   # drawn at twice the size, then scaled down (smooth lines)
_INK, _GRID, _WHITE = (0, 0, 0), (226, 226, 226), (255, 255, 255)


class Panel:
    """One plot: ``series`` is a list of (label, xs, ys); ``ylim`` fixes the y range;
    ``integer_x`` keeps the x ticks on whole numbers (epochs)."""

    def __init__(self, title, series, xlabel="", ylim=None, legend=True, integer_x=True):
        self.title, self.series, self.xlabel = title, series, xlabel
        self.ylim, self.legend, self.integer_x = ylim, legend, integer_x


def _font(size):
    try:
        return ImageFont.load_default(size=size * _SCALE)   # Pillow >= 10.1: scalable
    except TypeError:
        return ImageFont.load_default()                      # older Pillow: a bitmap font


def nice_ticks(lo, hi, count=5, integer=False):
    """Tick values at a round step (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    i = first
    while i * step <= hi + step * 1e-9:
        ticks.append(i * step)
        i += 1
    return ticks


def _label(value, ticks):
    """The tick's text with as many decimals as the step needs (0.25 -> 2, 0.2 -> 1)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = next((d for d in range(5) if abs(step * 10 ** d - round(step * 10 ** d))
                     < 1e-6 * step * 10 ** d), None)
    if decimals is None or step >= 1e6:   # 1.0e-05, 2.0e-05 / 2.0e+06: labels that fit
        return f"{value:.1e}"
    return f"{value:.{decimals}f}"


def _finite_points(xs, ys):
    return [p for run in _segments(xs, ys) for p in run]


def _limits(values, fixed=None):
    if fixed is not None:
        return float(fixed[0]), float(fixed[1])
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if hi == lo:   # one value: a unit range around it
        pad = abs(lo) * 0.05 or 0.5
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05   # matplotlib's default margins
    return lo - pad, hi + pad


def _segments(xs, ys):
    """Runs of finite points (a NaN or inf loss breaks the line, as matplotlib does)."""
    run = []
    for x, y in zip(xs, ys):
        if y is not None and math.isfinite(y) and math.isfinite(x):
            run.append((x, y))
        elif run:
            yield run
            run = []
    if run:
        yield run


class _Frame:
    """Data -> pixel coordinates of one panel's plotting area."""

    def __init__(self, box, xlim, ylim):
        self.box, self.xlim, self.ylim = box, xlim, ylim

    def px(self, x, y):
        left, top, right, bottom = self.box
        fx = (x - self.xlim[0]) / ((self.xlim[1] - self.xlim[0]) or 1.0)
        fy = (y - self.ylim[0]) / ((self.ylim[1] - self.ylim[0]) or 1.0)
        return left + fx * (right - left), bottom - fy * (bottom - top)


def _draw_panel(draw, panel, box, fonts):
    small, normal = fonts
    s = _SCALE
    points = [p for _, xs, ys in panel.series for p in _finite_points(xs, ys)]
    xlim = _limits([p[0] for p in points])
    ylim = _limits([p[1] for p in points], panel.ylim)
    frame = _Frame(box, xlim, ylim)
    left, top, right, bottom = box
    xticks = [t for t in nice_ticks(*xlim, count=5, integer=panel.integer_x)
              if xlim[0] <= t <= xlim[1]]
    yticks = [t for t in nice_ticks(*ylim, count=8) if ylim[0] - 1e-12 <= t <= ylim[1] + 1e-12]
    for t in xticks:
        x, _ = frame.px(t, ylim[0])
        draw.line([(x, top), (x, bottom)], fill=_GRID, width=s)
        draw.line([(x, bottom), (x, bottom + 4 * s)], fill=_INK, width=s)
        draw.text((x, bottom + 6 * s), _label(t, xticks), fill=_INK, font=small, anchor="ma")
    for t in yticks:
        _, y = frame.px(xlim[0], t)
        draw.line([(left, y), (right, y)], fill=_GRID, width=s)
        draw.line([(left - 4 * s, y), (left, y)], fill=_INK, width=s)
        draw.text((left - 6 * s, y), _label(t, yticks), fill=_INK, font=small, anchor="rm")
    for i, (_, xs, ys) in enumerate(panel.series):
        color = COLORS[i % len(COLORS)]
        for run in _segments(xs, ys):
            pts = [frame.px(x, y) for x, y in run]
            if len(pts) > 1:
                draw.line(pts, fill=color, width=2 * s, joint="curve")
            for x, y in pts:
                r = 3 * s
                draw.ellipse([x - r, y - r, x + r, y + r], fill=color)
    draw.rectangle(box, outline=_INK, width=s)
    draw.text(((left + right) / 2, top - 8 * s), panel.title, fill=_INK, font=normal,
              anchor="md")
    if panel.xlabel:
        draw.text(((left + right) / 2, bottom + 24 * s), panel.xlabel, fill=_INK, font=small,
                  anchor="ma")
    if panel.legend and len(panel.series) > 1:
        _draw_legend(draw, panel, frame, small)


def _draw_legend(draw, panel, frame, font):
    """The labels in the corner of the panel where they hide the fewest points."""
    s = _SCALE
    left, top, right, bottom = frame.box
    rows = 16 * s
    width = 34 * s + max(font.getlength(label) for label, _, _ in panel.series)
    height = rows * len(panel.series) + 8 * s
    pad = 8 * s
    corners = [(right - pad - width, top + pad), (right - pad - width, bottom - pad - height),
               (left + pad, top + pad), (left + pad, bottom - pad - height)]
    pixels = [frame.px(x, y) for _, xs, ys in panel.series for x, y in _finite_points(xs, ys)]

    def hidden(corner):
        x0, y0 = corner
        return sum(x0 - 6 * s <= x <= x0 + width + 6 * s and y0 - 6 * s <= y <= y0 + height
                   + 6 * s for x, y in pixels)

    x0, y0 = min(corners, key=hidden)   # the first of the least covered corners
    draw.rounded_rectangle([x0, y0, x0 + width, y0 + height], radius=3 * s, fill=_WHITE,
                           outline=(204, 204, 204), width=s)
    for i, (label, _, _) in enumerate(panel.series):
        y = y0 + 4 * s + rows * i + rows / 2
        color = COLORS[i % len(COLORS)]
        draw.line([(x0 + 6 * s, y), (x0 + 26 * s, y)], fill=color, width=2 * s)
        draw.ellipse([x0 + 13 * s, y - 3 * s, x0 + 19 * s, y + 3 * s], fill=color)
        draw.text((x0 + 30 * s, y), label, fill=_INK, font=font, anchor="lm")


def render_panels(panels, width, height, title=None) -> bytes:
    """``panels`` side by side in a ``width`` x ``height`` picture; the PNG file's bytes."""
    s = _SCALE
    image = Image.new("RGB", (width * s, height * s), _WHITE)
    draw = ImageDraw.Draw(image)
    fonts = (_font(10), _font(12))
    top = (56 if title else 34) * s
    bottom = height * s - 46 * s
    margin_left, gap, margin_right = 56 * s, 64 * s, 12 * s
    inner = (width * s - margin_left - margin_right - gap * (len(panels) - 1)) / len(panels)
    for i, panel in enumerate(panels):
        left = margin_left + i * (inner + gap)
        _draw_panel(draw, panel, (left, top, left + inner, bottom), fonts)
    if title:
        draw.text((width * s / 2, 10 * s), title, fill=_INK, font=fonts[1], anchor="ma")
    image = image.reduce(s)   # a 2x2 box average: the smoothing, at a tenth of LANCZOS's cost
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()
