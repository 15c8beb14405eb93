"""What the programs share with the harness: bundled data, identical initial weights, losses.

The programs under ``progs/`` are written against a module named ``torch``; the harness runs
each twice, with ``torch`` bound to minitorch and to PyTorch. So that both runs can be compared
number for number, the programs take their data from here (numpy arrays, the same for both: the
tutorials' downloads replaced by scikit-learn's bundled 8x8 digits or seeded synthetic data),
give their models the same initial weights with ``init_`` (each framework's own random init
would differ), and report every loss with ``record``.
"""
import zlib

import numpy as np

__all__ = ["digits", "synthetic_images", "init_", "record", "LOSSES", "OUTPUTS"]

LOSSES = []    # every value passed to record(), in order; the harness clears it per run
OUTPUTS = {}   # named values a program wants compared (record(value, name=...))


def digits(n_train=512, n_test=256):
    """((x_train, y_train), (x_test, y_test)): digits as float32 (N, 1, 8, 8) in [0, 1]."""
    from minitorch.data.datasets.digits import _load_raw
    images, labels = _load_raw()
    x = images.reshape(-1, 1, 8, 8).astype(np.float32)
    y = labels.astype(np.int64)
    return (x[:n_train], y[:n_train]), (x[n_train:n_train + n_test], y[n_train:n_train + n_test])


def synthetic_images(n, channels=3, size=32, classes=10, seed=0):
    """(images float32 (n, C, S, S), labels int64): class k is a bright band at row 3k plus
    noise, so a small CNN learns it in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n).astype(np.int64)
    images = rng.normal(0.0, 0.5, (n, channels, size, size)).astype(np.float32)
    for i, k in enumerate(labels):
        images[i, :, 3 * k % size:3 * k % size + 2, :] += 1.5
    return images, labels


def init_(model):
    """Give every parameter of ``model`` the same values in either framework: uniform in
    +-1/sqrt(fan_in), seeded by the parameter's name (BatchNorm-style 1-d weights get ones)."""
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():
            shape = tuple(p.shape)
            rng = np.random.default_rng(zlib.crc32(name.encode()))
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else (shape[0] if shape else 1)
            bound = 1.0 / np.sqrt(fan_in)
            values = rng.uniform(-bound, bound, shape).astype(np.float32)
            p.copy_(torch.from_numpy(values))
    return model


def record(value, name=None):
    """Note a loss (any number or 0-d tensor) for the harness to compare."""
    if hasattr(value, "detach"):   # a tensor of either framework
        value = value.detach().numpy().copy()
    if name is not None:
        OUTPUTS[name] = value
    else:
        LOSSES.append(float(value))
