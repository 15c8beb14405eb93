"""``multinomial``: category indices drawn from rows of non-negative weights, declared once
(``mt.multinomial`` and ``Tensor.multinomial``).

Draws come from minitorch's generator (the global one or ``generator=``), so equal seeds give
equal samples in minitorch; the stream is not torch's. With replacement, each sample inverts
the row's normalised cumulative sum at a uniform draw (a zero weight is never drawn); without
replacement, the ``num_samples`` largest of ``weight / Exponential(1)`` (the exponential-race
form of sequential sampling that torch uses too), so zero-weight categories come last.
"""
import numbers

import numpy as np

from . import random as _random
from ._registry import declare

__all__ = ["multinomial"]


def _check(input, num_samples, replacement):
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    n_categories = input.shape[-1]
    if n_categories == 0:
        raise RuntimeError("multinomial: cannot sample from an empty dimension (input of shape "
                           f"{tuple(input.shape)})")
    if not replacement and num_samples > n_categories:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({num_samples} > {n_categories})")


@declare()
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """(num_samples,) or (rows, num_samples) int64 indices into the last dim of ``input``."""
    _check(input, num_samples, replacement)
    p = input._data.reshape(-1, input.shape[-1]).astype(np.float64)
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = p.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    g = generator or _random.default_generator()
    rows = p.shape[0]
    if replacement:
        cdf = np.cumsum(p, axis=1)
        cdf /= cdf[:, -1:]                      # exactly 1.0 at the end, so u < 1 stays inside
        u = g.random((rows, num_samples))
        # one search per row (rows are few: a batch), over all of its samples at once
        out = np.empty((rows, num_samples), dtype=np.int64)
        for r in range(rows):
            out[r] = np.searchsorted(cdf[r], u[r], side="right")
    else:
        keys = p / g.standard_exponential(p.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64).reshape(tuple(input.shape[:-1]) + (num_samples,))
    return input._new(out)
