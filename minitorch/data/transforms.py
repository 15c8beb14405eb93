"""Composable image transforms on numpy arrays, with explicit random generators.

Array transforms work on ``(..., H, W)`` arrays (a CHW image or an NCHW batch). Random transforms
draw their parameters from the ``np.random.Generator`` they are given, never from global state, so
a pipeline is reproducible. ``t(x, rng)`` transforms one image; ``t.apply_batch(x, rngs)``
transforms an NCHW batch with ``rngs[k]`` for sample k and gives exactly what ``t(x[k], rngs[k])``
would, but draws only scalars per sample and moves pixels with whole-batch numpy operations.

Views (what the frozen-prefix cache needs): a random transform with a finite set of outcomes
(a flip, a crop offset) names the outcome it would draw with ``draw(rng, hw)`` (the same draws,
in the same order, without touching pixels), so ``Compose.view_key(rng, hw)`` identifies the
augmented image before it is made; ``outcomes(hw)`` lists all it can draw and
``apply_outcome(x, outcome)`` makes one of them, so ``Compose.views``/``apply_views`` give every
view of an image at once. A transform whose outcomes are continuous (a resized crop's
scale, a jitter factor, an angle) sets ``continuous`` to the reason it cannot be cached.

The PIL-facing steps (``Resize`` of a PIL image, ``ToTensor``) follow torchvision's PIL path.
"""
import itertools
import math
import numbers

import numpy as np

from .errors import DataError

__all__ = ["Transform", "Compose", "Resize", "CenterCrop", "RandomCrop", "RandomHorizontalFlip",
           "Normalize", "ToTensor", "resize_bilinear", "EVAL_CROP_FRACTION", "eval_resize_for"]
# the continuous augmentations (PIL images, torchvision's PIL path) live in transforms_photo.py


def _pair(size, name):
    """(h, w) from an int or a 2-sequence of positive ints."""
    given = size
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
            or min(size) < 1):
        raise DataError(f"{name}: invalid size {given!r}: expected an int or (h, w) of ints >= 1")
    return int(size[0]), int(size[1])


def _need_rng(rng, name):
    if not isinstance(rng, np.random.Generator):
        raise DataError(f"{name} is random: pass an explicit np.random.Generator, got {rng!r}")
    return rng


class Transform:
    """Base class. Deterministic transforms handle any leading dimensions in ``__call__``."""

    is_random = False
    continuous = None   # why the outcomes cannot be enumerated (continuous random parameters)

    def __call__(self, x, rng=None):
        raise NotImplementedError

    def out_hw(self, hw):
        """(height, width) of the output for an input of ``hw``."""
        return tuple(hw)

    def draw(self, rng, hw):
        """The outcome a random transform would draw from ``rng`` for an input of ``hw``
        (exactly the draws ``__call__`` makes); None for a deterministic one."""
        return None

    def outcomes(self, hw):
        """Every outcome ``draw`` can give for an input of ``hw`` (a list), None when they
        cannot be listed (continuous parameters)."""
        return None

    def apply_outcome(self, x, outcome):
        """The transform of ``x`` with its random outcome given (what ``draw`` names)."""
        raise NotImplementedError(f"{type(self).__name__} cannot apply a given outcome")

    def view_key(self, rng, hw):
        """The outcome drawn for an input of ``hw``, as a tuple (``()`` when not random)."""
        if self.continuous:
            raise DataError(f"view_key: {self.continuous}")
        return (self.draw(rng, hw),) if self.is_random else ()

    def apply_batch(self, x, rngs=None):
        """Transform an NCHW batch; sample k uses ``rngs[k]`` (ignored when not random)."""
        return self(x, None)

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Compose(Transform):
    """Apply ``transforms`` in order, passing the same generator along (draws follow in order)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        self.is_random = any(getattr(t, "is_random", False) for t in self.transforms)
        reasons = [getattr(t, "continuous", None) for t in self.transforms]
        self.continuous = next((r for r in reasons if r), None)

    def out_hw(self, hw):
        for t in self.transforms:
            hw = t.out_hw(hw)
        return tuple(hw)

    def view_key(self, rng, hw):
        """The outcomes every random step would draw for an input of ``hw``, as a tuple: equal
        keys mean bitwise equal outputs. Only for finite pipelines (``continuous`` is None)."""
        if self.continuous:
            raise DataError(f"view_key: {self.continuous}")
        key = []
        for t in self.transforms:
            if getattr(t, "is_random", False):
                key.append(t.draw(rng, hw))
            hw = t.out_hw(hw) if isinstance(t, Transform) else hw
        return tuple(key)

    def views(self, hw, limit):
        """Every view key an input of ``hw`` can get (``view_key``'s tuples, in a fixed order),
        or None when there are more than ``limit`` or they cannot be listed."""
        if self.continuous:
            return None
        choices = []
        for t in self.transforms:
            if getattr(t, "is_random", False):
                outcomes = t.outcomes(hw)
                if not outcomes:   # unlisted, or none (a crop larger than the image: the
                    return None    # draw itself reports it)
                choices.append(outcomes)
                if math.prod(len(c) for c in choices) > limit:
                    return None
            hw = t.out_hw(hw) if isinstance(t, Transform) else hw
        return list(itertools.product(*choices))

    def apply_views(self, x, keys):
        """``[the pipeline's output for x under key]`` for each view key: bitwise what
        ``__call__`` gives with a generator that draws that key. The steps before the first
        random one run once."""
        first = next((i for i, t in enumerate(self.transforms)
                      if getattr(t, "is_random", False)), len(self.transforms))
        x = self._run(self.transforms[:first], x, None)
        out = []
        for key in keys:
            y, outcomes = x, iter(key)
            for t in self.transforms[first:]:
                if getattr(t, "is_random", False):
                    y = t.apply_outcome(y, next(outcomes))
                else:
                    y = t(y, None) if isinstance(t, Transform) else t(y)
            out.append(y)
        return out

    @staticmethod
    def _run(steps, x, rng):
        for t in steps:
            x = t(x, rng) if isinstance(t, Transform) else t(x)
        return x

    def __call__(self, x, rng=None):
        return self._run(self.transforms, x, rng)

    def apply_batch(self, x, rngs=None):
        for t in self.transforms:
            x = t.apply_batch(x, rngs) if isinstance(t, Transform) else t(x)
        return x


def _source_index(out_size, in_size):
    """PyTorch's bilinear (align_corners=False) source rows: low index, high index, weight."""
    scale = in_size / out_size
    src = np.maximum((np.arange(out_size, dtype=np.float64) + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    return low, high, (src - low)


def resize_bilinear(x, size):
    """Bilinear resize of the last two axes of ``x`` to ``size`` = (h, w).

    Equals ``torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False)``
    (no antialiasing), separably: rows first, then columns. Keeps a float dtype; ints become
    float32.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    h, w = _pair(size, "resize")
    low, high, lam = _source_index(h, x.shape[-2])
    lam = lam.astype(x.dtype)[:, None]
    x = x[..., low, :] * (1 - lam) + x[..., high, :] * lam
    low, high, lam = _source_index(w, x.shape[-1])
    lam = lam.astype(x.dtype)
    return np.ascontiguousarray(x[..., low] * (1 - lam) + x[..., high] * lam)


class Resize(Transform):
    """Resize to ``size``: an int resizes the shorter edge (keeping the aspect ratio), (h, w) both.

    A PIL image is resized with PIL's bilinear filter (torchvision's PIL path, antialiased); an
    array with ``resize_bilinear`` (torch's interpolate, not antialiased: fine for upscaling).
    """

    def __init__(self, size):
        self.size = size if isinstance(size, numbers.Integral) else _pair(size, "Resize")
        _pair(self.size, "Resize")

    def target(self, h, w):
        if not isinstance(self.size, numbers.Integral):
            return self.size
        short, long = (h, w) if h <= w else (w, h)
        new_short, new_long = int(self.size), int(int(self.size) * long / short)
        return (new_short, new_long) if h <= w else (new_long, new_short)

    def out_hw(self, hw):
        return tuple(self.target(*hw))

    def __call__(self, x, rng=None):
        if hasattr(x, "resize") and hasattr(x, "mode"):  # a PIL image
            from PIL import Image
            h, w = self.target(x.height, x.width)
            return x.resize((w, h), Image.BILINEAR)
        return resize_bilinear(x, self.target(*np.shape(x)[-2:]))


# torchvision's photo evaluation: Resize(256) then CenterCrop(224), the central 87.5% kept
EVAL_CROP_FRACTION = 0.875


def eval_resize_for(image_size):
    """The shorter side torchvision's policy resizes to before a centre crop of ``image_size``:
    ``floor(image_size / 0.875)`` (256 for 224, as timm's ``crop_pct``)."""
    return int(math.floor(int(image_size) / EVAL_CROP_FRACTION))


def _pad_hw(x, top, bottom, left, right, fill=0):
    """Pad the last two axes with a constant."""
    if not (top or bottom or left or right):
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    return np.pad(x, widths, mode="constant", constant_values=fill)


class CenterCrop(Transform):
    """The central ``size`` region (torchvision's rounding; zero-pads an image that is smaller)."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def out_hw(self, hw):
        return self.size

    def __call__(self, x, rng=None):
        th, tw = self.size
        h, w = x.shape[-2:]
        if th > h or tw > w:
            pad_h, pad_w = max(th - h, 0), max(tw - w, 0)
            x = _pad_hw(x, pad_h // 2, (pad_h + 1) // 2, pad_w // 2, (pad_w + 1) // 2)
            h, w = x.shape[-2:]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return x[..., top:top + th, left:left + tw]


class RandomCrop(Transform):
    """A random ``size`` crop after zero-padding every side by ``padding`` pixels."""

    is_random = True

    def __init__(self, size, padding=0, fill=0):
        self.size = _pair(size, "RandomCrop")
        if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
            raise DataError(f"RandomCrop: invalid padding {padding!r}: must be an integer >= 0")
        self.padding, self.fill = int(padding), fill

    def _padded(self, x):
        p = self.padding
        x = _pad_hw(x, p, p, p, p, self.fill)
        th, tw = self.size
        if x.shape[-2] < th or x.shape[-1] < tw:
            raise DataError(f"RandomCrop: crop {self.size} is larger than the padded image "
                            f"{tuple(x.shape[-2:])}")
        return x

    def out_hw(self, hw):
        return self.size

    def draw(self, rng, hw):
        p = self.padding
        return self._offsets(rng, hw[0] + 2 * p, hw[1] + 2 * p)

    def _offsets(self, rng, h, w):
        rng = _need_rng(rng, "RandomCrop")
        top = int(rng.integers(0, h - self.size[0] + 1))
        left = int(rng.integers(0, w - self.size[1] + 1))
        return top, left

    def outcomes(self, hw):
        p = self.padding
        rows, cols = hw[0] + 2 * p - self.size[0] + 1, hw[1] + 2 * p - self.size[1] + 1
        return [(top, left) for top in range(max(rows, 0)) for left in range(max(cols, 0))]

    def _crop(self, x, outcome):
        top, left = outcome
        return x[..., top:top + self.size[0], left:left + self.size[1]]

    def apply_outcome(self, x, outcome):
        return self._crop(self._padded(x), outcome)

    def __call__(self, x, rng=None):
        x = self._padded(x)
        return self._crop(x, self._offsets(rng, *x.shape[-2:]))

    def apply_batch(self, x, rngs=None):
        x = self._padded(x)
        n, c, h, w = x.shape
        offsets = np.array([self._offsets(rngs[k], h, w) for k in range(n)],
                           dtype=np.int64).reshape(n, 2)
        rows = offsets[:, 0:1] + np.arange(self.size[0])   # (N, th)
        cols = offsets[:, 1:2] + np.arange(self.size[1])   # (N, tw)
        return x[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]


class RandomHorizontalFlip(Transform):
    """Mirror the last axis with probability ``p``."""

    is_random = True

    def __init__(self, p=0.5):
        if not 0.0 <= float(p) <= 1.0:
            raise DataError(f"RandomHorizontalFlip: invalid p {p!r}: must be in [0, 1]")
        self.p = float(p)

    def draw(self, rng, hw):
        return bool(_need_rng(rng, "RandomHorizontalFlip").random() < self.p)

    def outcomes(self, hw):
        return [False, True] if 0.0 < self.p < 1.0 else [self.p == 1.0]

    def apply_outcome(self, x, outcome):
        return np.ascontiguousarray(x[..., ::-1]) if outcome else x

    def __call__(self, x, rng=None):
        return self.apply_outcome(x, self.draw(rng, None))

    def apply_batch(self, x, rngs=None):
        flips = np.array([_need_rng(rngs[k], "RandomHorizontalFlip").random() < self.p
                          for k in range(x.shape[0])], dtype=bool)
        out = np.array(x, copy=True)
        out[flips] = out[flips][..., ::-1]
        return out


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` over the channel axis (-3), in the input's float dtype."""

    def __init__(self, mean, std):
        self.mean = [float(m) for m in np.atleast_1d(mean)]
        self.std = [float(s) for s in np.atleast_1d(std)]
        if len(self.mean) != len(self.std):
            raise DataError(f"Normalize: mean has {len(self.mean)} values but std has "
                            f"{len(self.std)}")
        if any(not s > 0 for s in self.std):
            raise DataError(f"Normalize: invalid std {self.std}: every value must be > 0")

    def __call__(self, x, rng=None):
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        if len(self.mean) not in (1, x.shape[-3]):
            raise DataError(f"Normalize: {len(self.mean)} mean/std values for an image with "
                            f"{x.shape[-3]} channels")
        mean = np.asarray(self.mean, dtype=dtype)[:, None, None]
        std = np.asarray(self.std, dtype=dtype)[:, None, None]
        return (x.astype(dtype, copy=False) - mean) / std


class ToTensor(Transform):
    """A PIL image or HWC array to a CHW float32 array (uint8 scaled to [0, 1]), as torchvision.

    The result stays a numpy array so a batch is one ``np.stack``; the DataLoader makes Tensors.
    """

    def __call__(self, x, rng=None):
        a = np.asarray(x)
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise DataError(f"ToTensor: expected an HWC image, got shape {a.shape}")
        chw = np.ascontiguousarray(a.transpose(2, 0, 1))
        if a.dtype == np.uint8:
            return chw.astype(np.float32) / np.float32(255)
        return chw.astype(np.float32, copy=False)
