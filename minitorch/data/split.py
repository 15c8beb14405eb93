"""Dataset splits: torch's ``random_split``, and deterministic train/validation splits.

``stratified_split``/``train_val_split`` depend only on (labels, val_fraction, seed), never on
global random state, so every process of a distributed run and every resumed run gets the same
split. ``random_split`` draws from ``generator`` (default: minitorch's global generator), as torch.
"""
import math
import numbers
import warnings

import numpy as np

from minitorch.random import default_generator

from .errors import DataError

__all__ = ["random_split", "stratified_split", "random_split_indices", "train_val_split"]


def _split_lengths(n, lengths):
    """Integer lengths from ``lengths`` (ints summing to n, or fractions summing to 1)."""
    lengths = list(lengths)
    if any(isinstance(x, bool) or not isinstance(x, numbers.Real) or x < 0 for x in lengths):
        raise DataError(f"random_split: lengths must be non-negative numbers, got {lengths}")
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * frac)) for frac in lengths]
        # torch's rule: the leftover samples go one each to the first splits, round-robin.
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              f"dataset.", stacklevel=3)
        return counts
    if any(not isinstance(x, numbers.Integral) for x in lengths) or sum(lengths) != n:
        raise DataError(f"random_split: sum of input lengths {lengths} does not equal the length "
                        f"of the input dataset ({n}), nor are they fractions summing to 1")
    return [int(x) for x in lengths]


def random_split(dataset, lengths, generator=None):
    """Non-overlapping random ``Subset``s of the given lengths (or fractions), as torch's."""
    from .dataset import Subset
    counts = _split_lengths(len(dataset), lengths)
    order = (generator if generator is not None else default_generator()).permutation(
        sum(counts))
    stops = np.cumsum(counts)
    return [Subset(dataset, order[stop - count:stop]) for stop, count in zip(stops, counts)]


def _check_fraction(val_fraction):
    if isinstance(val_fraction, bool) or not 0.0 <= float(val_fraction) < 1.0:
        raise DataError(f"invalid val_fraction {val_fraction!r}: must be in [0, 1)")
    return float(val_fraction)


def _seed_seq(seed, *extra):
    return np.random.default_rng([int(seed), *extra])


def stratified_split(labels, val_fraction, seed=0):
    """(train indices, val indices), sorted, taking ``round(n_c * val_fraction)`` of each class c.

    Each class is shuffled with its own generator from (seed, class position), so adding or
    removing one class does not change how the others are split.
    """
    labels = np.asarray(labels).reshape(-1)
    val_fraction = _check_fraction(val_fraction)
    train, val = [], []
    for pos, cls in enumerate(np.unique(labels)):
        members = np.flatnonzero(labels == cls)
        members = members[_seed_seq(seed, 0x5717, pos).permutation(members.size)]
        n_val = int(round(members.size * val_fraction))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return _sorted_concat(train), _sorted_concat(val)


def random_split_indices(n, val_fraction, seed=0):
    """(train indices, val indices), sorted, with ``round(n * val_fraction)`` samples for val."""
    val_fraction = _check_fraction(val_fraction)
    order = _seed_seq(seed, 0x5EED).permutation(int(n))
    n_val = int(round(n * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train_val_split(dataset, val_fraction, seed=0, stratify=True):
    """(train Subset, val Subset) of ``dataset``, stratified by its ``targets`` when it has them."""
    from .dataset import Subset
    targets = getattr(dataset, "targets", None)
    if stratify and targets is not None:
        train, val = stratified_split(targets, val_fraction, seed)
    else:
        train, val = random_split_indices(len(dataset), val_fraction, seed)
    if len(train) == 0:
        raise DataError(f"val_fraction {val_fraction} leaves no training samples out of "
                        f"{len(dataset)}")
    return Subset(dataset, train), Subset(dataset, val)


def _sorted_concat(parts):
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(parts)).astype(np.int64)
