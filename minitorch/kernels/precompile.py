"""Ahead-of-time compiling of the training kernels into numba's on-disk cache.

On an empty cache the first training step compiles every kernel it reaches (tens of seconds of one
core). ``warmup(processes)`` does it before the run instead, split over processes (numba compiles
one function at a time per process). Nothing here runs unless called: ``minitorch-warmup`` and
``minitorch.runtime.warmup`` call it.

Each kernel is compiled by exactly one process (a fixed split, balanced by measured compile
times), so no two processes ever write the same kernel's cache index, and no lock or numba patch
is needed. (Small ``cache=True`` helpers that several kernels call may be compiled by both
processes; they compile for the same signature, so both write the same entry.)
"""
import os
import subprocess
import sys

import numpy as np

from . import (activation, batch1, conv, conv_dense, conv_nhwc, loss, norm, pool, sgd,
               winograd, winograd43, winograd43_grad)

__all__ = ["KERNEL_NAMES", "HEAD_ONLY_NAMES", "MAX_POOL_NAMES", "compile_kernels", "warmup",
           "split_by_cost", "cold_kernels"]


def _warm_calls(dt):
    """One tiny call per training kernel, so numba compiles (or loads) the ``dt`` version.

    In the order a ResNet training step first calls them (forward, loss, backward, update).
    """
    dt = np.dtype(dt)
    x, w = np.ones((2, 3, 5, 5), dt), np.ones(3, dt)
    x3, v3 = x.reshape(2, 3, 25), np.ones((2, 3, 25), dt)
    i2 = np.zeros((2, 3, 2, 2), np.int64)
    t = np.zeros(2, np.int64)
    s = dt.type(0.5)  # optim.SGD passes its hyperparameters in the parameters' dtype
    # Winograd scratch is (16, channels, row length >= tiles): 2x2 tiles of a 4x4 output, N=2
    x4, w4, p4 = np.ones((2, 2, 4, 4), dt), np.ones((2, 2, 3, 3), dt), np.ones((16, 2, 16), dt)
    return {
        "im2col": lambda: conv.im2col(np.empty((27, 50), dt), x, 3, 3, 1, 1, 1, 1, 1, 1),
        "swap01": lambda: conv.swap01(np.empty((3, 2, 25), dt), v3, w[:0], v3[:0], False),
        # a batch's im2col convolutions run as pipelined slices (ops/conv_im2col_pipeline.py)
        "im2col_serial": lambda: conv.im2col_serial(np.empty((27, 50), dt), x, 3, 3, 1, 1, 1, 1,
                                                    1, 1),
        "swap01_serial": lambda: conv.swap01_serial(np.empty((3, 2, 25), dt), v3, w[:0], v3[:0],
                                                    False),
        "batch_norm_stats": lambda: norm.batch_norm_stats(np.empty(3, dt), np.empty(3, dt), x3,
                                                          1e-5),
        "batch_norm_apply": lambda: norm.batch_norm_apply(np.empty_like(x3), x3, w, w, w, w, 0),
        "max_pool2d_forward": lambda: pool.max_pool2d_forward(np.empty((2, 3, 2, 2), dt),
                                                              np.empty_like(i2), x, 2, 2, 2, 2,
                                                              0, 0, 1, 1),
        "max_pool2d_forward_values": lambda: pool.max_pool2d_forward_values(
            np.empty((2, 3, 2, 2), dt), x, 2, 2, 2, 2, 0, 0, 1, 1),
        "weight_transform": lambda: winograd.weight_transform(np.empty((16, 2, 2), dt), w4),
        "weight_transform_serial": lambda: winograd.weight_transform_serial(
            np.empty((16, 2, 2), dt), w4),
        "tiles": lambda: winograd.tiles(4, 4),
        "input_transform": lambda: winograd.input_transform(np.empty_like(p4), x4, 1, 1),
        "output_transform": lambda: winograd.output_transform(np.empty_like(x4), p4, w[:2],
                                                              x4[:0], False),
        # a feature cache's fill (ops.conv.forward_once)
        "input_transform_serial": lambda: winograd.input_transform_serial(np.empty_like(p4), x4,
                                                                          1, 1),
        "output_transform_serial": lambda: winograd.output_transform_serial(
            np.empty_like(x4), p4, w[:2], x4[:0], False),
        "weight_transform43": lambda: winograd43.weight_transform43(np.empty((36, 2, 2), dt), w4,
                                                                    np.ones(2)),
        "tiles43": lambda: winograd43.tiles43(4, 4),
        "input_transform43": lambda: winograd43.input_transform43(np.empty((36, 2, 2), dt), x4, 1,
                                                                  1),
        "output_transform43": lambda: winograd43.output_transform43(
            np.empty_like(x4), np.ones((36, 2, 2), dt), w[:2], x4[:0], False),
        # the pipelined F(4x4, 3x3) convolutions' slices (ops.conv_winograd.pipelined)
        "input_transform43_serial": lambda: winograd43.input_transform43_serial(
            np.empty((36, 2, 2), dt), x4, 1, 1),
        "output_transform43_serial": lambda: winograd43.output_transform43_serial(
            np.empty_like(x4), np.ones((36, 2, 2), dt), w[:2], x4[:0], False),
        # maps of a few pixels (torchvision's layer3 and layer4 at 32x32 input)
        "dense_weight": lambda: conv_dense.dense_weight(np.empty((8, 8), dt),
                                                        np.ones((2, 2, 9), dt),
                                                        np.zeros((4, 4), np.int64)),
        "relu_forward": lambda: activation.relu_forward(np.empty(4, dt), np.ones(4, dt)),
        "transpose12": lambda: conv.transpose12(np.empty((2, 25, 3), dt), v3, w[:0], v3[:0],
                                                False),
        "transpose12_serial": lambda: conv.transpose12_serial(np.empty((2, 25, 3), dt), v3, w[:0],
                                                              v3[:0], False),
        "adaptive_avg_pool2d_forward": lambda: pool.adaptive_avg_pool2d_forward(
            np.empty((2, 3, 1, 1), dt), x),
        "cross_entropy_forward": lambda: loss.cross_entropy_forward(
            np.empty(2, dt), np.empty(2, dt), np.ones((2, 3), dt), t, w, 0.0, -100),
        "cross_entropy_backward": lambda: loss.cross_entropy_backward(
            np.empty((2, 3), dt), np.ones((2, 3), dt), t, w, np.ones(2, dt), 0.0, -100),
        "adaptive_avg_pool2d_backward": lambda: pool.adaptive_avg_pool2d_backward(
            np.empty_like(x), np.ones((2, 3, 1, 1), dt)),
        "relu_backward": lambda: activation.relu_backward(np.empty(4, dt), np.ones(4, dt),
                                                          np.ones(4, dt)),
        "batch_norm_backward": lambda: norm.batch_norm_backward(
            np.empty_like(x3), np.empty(3, dt), np.empty(3, dt), v3, x3, x3, w, w, w, 1, 0, 1, 1),
        "output_transform_adjoint": lambda: winograd.output_transform_adjoint(
            np.empty_like(p4), x4),
        "weight_grad_transform": lambda: winograd.weight_grad_transform(
            np.empty_like(w4), np.ones((16, 2, 2), dt)),
        "input_transform_adjoint": lambda: winograd.input_transform_adjoint(
            np.empty_like(x4), p4, 1, 1),
        "output_transform_adjoint43": lambda: winograd43_grad.output_transform_adjoint43(
            np.empty((36, 2, 2), dt), x4),
        "weight_grad_transform43": lambda: winograd43_grad.weight_grad_transform43(
            np.empty_like(w4), np.ones((36, 2, 2), dt)),
        "output_transform_adjoint43_serial": lambda: (
            winograd43_grad.output_transform_adjoint43_serial(np.empty((36, 2, 2), dt), x4)),
        "col2im": lambda: conv.col2im(np.empty_like(x), np.ones((27, 50), dt), 3, 3, 1, 1, 1, 1,
                                      1, 1),
        "col2im_serial": lambda: conv.col2im_serial(np.empty_like(x), np.ones((27, 50), dt), 3, 3,
                                                    1, 1, 1, 1, 1, 1),
        "dense_weight_grad": lambda: conv_dense.dense_weight_grad(
            np.empty((2, 2, 9), dt), np.ones((8, 8), dt), np.zeros((4, 4), np.int64)),
        "max_pool2d_backward": lambda: pool.max_pool2d_backward(np.empty_like(x),
                                                                np.ones((2, 3, 2, 2), dt), i2),
        "sgd_update_serial_": lambda: sgd.sgd_update_serial_(w.copy(), w.copy(), w, s, s, s, s,
                                                             0, 0, 1, 1),
        "sgd_update_": lambda: sgd.sgd_update_(w.copy(), w.copy(), w, s, s, s, s, 0, 0, 1, 1),
        # batch 1 (minitorch-predict on one image): the stem's banded columns and the epilogue
        "im2col_rows": lambda: conv.im2col_rows(np.empty((27, 10), dt), x, 3, 3, 1, 1, 1, 1, 1, 1,
                                                0),
        "bn_residual_relu_serial_": lambda: batch1.bn_residual_relu_serial_(
            np.ones((3, 4), dt), w, w, w, w, np.ones((3, 4), dt), True, True),
        "bn_residual_relu_": lambda: batch1.bn_residual_relu_(
            np.ones((3, 4), dt), w, w, w, w, np.ones((3, 4), dt), True, True),
        # the RGB stem's channels-last columns (ops.conv_nhwc)
        "nhwc_padded": lambda: conv_nhwc.nhwc_padded(np.empty((2, 7, 7, 3), dt), x, 1, 1),
        "im2col_nhwc": lambda: conv_nhwc.im2col_nhwc(np.empty((18, 27), dt),
                                                     np.ones((2, 7, 7, 3), dt), 3, 3, 2, 2, 0),
        "max_pool_nhwc_values": lambda: conv_nhwc.max_pool_nhwc_values(
            np.empty((2, 2, 2, 3), dt), np.ones((2, 3, 3, 3), dt), 3, 3, 2, 2, 1, 1, 1, 1),
    }


KERNEL_NAMES = tuple(_warm_calls(np.float32))
# What a run whose backward stops at the classifier head reaches (a frozen backbone, BatchNorm
# folded, features cached or not): the layers' forward, the loss, the head's update. The digits
# job compiles these 13 instead of all of them. Its weights are small: it reaches the serial twin of
# weight_transform (half the compile time, twin.py), not it.
HEAD_ONLY_NAMES = ("im2col", "swap01", "im2col_serial", "swap01_serial", "relu_forward",
                   "tiles", "weight_transform_serial", "input_transform", "output_transform",
                   "adaptive_avg_pool2d_forward", "cross_entropy_forward", "cross_entropy_backward",
                   "sgd_update_serial_")
MAX_POOL_NAMES = ("max_pool2d_forward", "max_pool2d_forward_values", "max_pool2d_backward")
_MODULES = (conv, conv_dense, conv_nhwc, winograd, winograd43, winograd43_grad, norm, activation,
            pool, loss, sgd, batch1)

# Cold-cache compile seconds per kernel, measured one after another in one process (shared
# machine, 2026-12-01); only their proportions matter, for splitting the work evenly. The
# frozen-backbone set (HEAD_ONLY_NAMES) re-measured in CPU seconds, helpers included, after
# output_transform stopped using an array expression for its bias (11.6 -> 5.9 s alone).
_COMPILE_SECONDS = {
    "im2col": 4.3, "swap01": 0.8, "batch_norm_stats": 1.4, "batch_norm_apply": 2.2,
    "max_pool2d_forward": 2.8, "weight_transform": 3.9, "tiles": 0.1, "input_transform": 7.0,
    "output_transform": 5.2, "relu_forward": 0.6, "transpose12": 1.3,
    "adaptive_avg_pool2d_forward": 0.8, "cross_entropy_forward": 0.7,
    "cross_entropy_backward": 0.5, "adaptive_avg_pool2d_backward": 0.6, "relu_backward": 0.6,
    "batch_norm_backward": 4.0, "output_transform_adjoint": 3.2, "weight_grad_transform": 1.5,
    "input_transform_adjoint": 5.9, "col2im": 2.5, "max_pool2d_backward": 1.2,
    "sgd_update_serial_": 0.5, "sgd_update_": 1.3, "max_pool2d_forward_values": 2.5,
    "weight_transform_serial": 1.9, "transpose12_serial": 2.1,
    "input_transform_serial": 5.0, "output_transform_serial": 3.5,
    "weight_transform43": 2.0, "tiles43": 0.1, "input_transform43": 3.0, "output_transform43": 4.5,
    "output_transform_adjoint43": 6.0, "weight_grad_transform43": 1.5,
    "input_transform43_serial": 5.6, "output_transform43_serial": 3.6,
    "im2col_serial": 0.5, "swap01_serial": 0.3, "col2im_serial": 0.5,
    "output_transform_adjoint43_serial": 4.0,
    "im2col_rows": 4.3, "bn_residual_relu_serial_": 1.0, "bn_residual_relu_": 2.0,
    "dense_weight": 1.7, "dense_weight_grad": 1.6,
    "nhwc_padded": 1.0, "im2col_nhwc": 1.0, "max_pool_nhwc_values": 1.5,
}


def compile_kernels(names=None, dtype=np.float32) -> None:
    """Compile (or load from numba's cache) the training kernels for ``dtype``, in this process."""
    calls = _warm_calls(np.dtype(dtype))
    for name in names or KERNEL_NAMES:
        calls[name]()


def _kernel(name):
    for module in _MODULES:
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(name)


def _is_cached(name) -> bool:
    """Whether numba's cache already holds this kernel (loading it is then cheap).

    Reads numba's cache object of the dispatcher; a numba version that moved it makes every
    kernel look cold, which only costs a redundant (cached, quick) compile in a worker.
    """
    try:
        return os.path.exists(_kernel(name)._cache._cache_file._index_path)
    except (AttributeError, KeyError):
        return False


def cold_kernels(names=None):
    """Those of ``names`` (default: every training kernel) that numba's cache does not hold yet
    (their first call compiles)."""
    return [n for n in (names or KERNEL_NAMES) if not _is_cached(n)]


def split_by_cost(names, parts: int):
    """``names`` in ``parts`` lists of about equal compile time (longest first, to the least
    loaded list)."""
    shares = [[] for _ in range(max(1, parts))]
    loads = [0.0] * len(shares)
    for name in sorted(names, key=lambda n: -_COMPILE_SECONDS.get(n, 1.0)):
        i = loads.index(min(loads))
        shares[i].append(name)
        loads[i] += _COMPILE_SECONDS.get(name, 1.0)
    return [s for s in shares if s]


def warmup(processes: int = 2, names=None) -> None:
    """Fill numba's on-disk cache for ``names`` (default: every training kernel), in
    ``processes`` processes at once.

    This process compiles one share and ``processes - 1`` child processes the others; then this
    process loads them from the cache (well under a second). With a warm cache no child is
    started.
    """
    names = tuple(names or KERNEL_NAMES)
    shares = split_by_cost(cold_kernels(names), processes)
    code = "import sys, minitorch.kernels as k; k.compile_kernels(sys.argv[1:])"
    children = [subprocess.Popen([sys.executable, "-c", code, *share], env=_child_env())
                for share in shares[1:]]
    try:
        compile_kernels(shares[0] if shares else [])
    finally:
        failed = [c.args[3:] for c in children if c.wait() != 0]
    if failed:
        raise RuntimeError(f"kernel warm-up: a compile process failed on {failed[0]}")
    compile_kernels(names)


def _child_env():
    """A child must import this very ``minitorch`` (another copy has other source files, hence
    other cache entries)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path)
