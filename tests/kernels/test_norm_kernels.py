"""Batch-norm kernels (with and without the fused ReLU) against plain-numpy references."""
import numpy as np
import pytest

from minitorch.kernels import norm

EPS = 1e-5


def make(dtype, shape=(3, 4, 10), seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    return x, w, b, g


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stats_give_batch_mean_biased_var_and_invstd(dtype):
    x, *_ = make(dtype)
    C = x.shape[1]
    mean, invstd = np.empty(C, dtype), np.empty(C, dtype)
    var = norm.batch_norm_stats(mean, invstd, x, EPS)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2)), **tol(dtype))
    np.testing.assert_allclose(var, x64.var(axis=(0, 2)), **tol(dtype))
    np.testing.assert_allclose(invstd, 1 / np.sqrt(x64.var(axis=(0, 2)) + EPS), **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("relu", [0, 1])
def test_apply_normalises_scales_and_optionally_rectifies(dtype, relu):
    x, w, b, _ = make(dtype)
    mean = x.mean(axis=(0, 2)).astype(dtype)
    invstd = (1 / np.sqrt(x.var(axis=(0, 2)) + EPS)).astype(dtype)
    y = np.empty_like(x)
    norm.batch_norm_apply(y, x, mean, invstd, w, b, relu)
    ref = (x - mean[:, None]) * invstd[:, None] * w[:, None] + b[:, None]
    if relu:
        ref = np.maximum(ref, 0)
    np.testing.assert_allclose(y, ref, **tol(dtype))
    assert y.dtype == dtype


def reference_backward(x, w, b, g, training, relu):
    """Autograd-free float64 derivation of the batch-norm gradient."""
    x, w, b, g = (a.astype(np.float64) for a in (x, w, b, g))
    M = x.shape[0] * x.shape[2]
    mean = x.mean(axis=(0, 2), keepdims=True)
    invstd = 1 / np.sqrt(x.var(axis=(0, 2), keepdims=True) + EPS)
    xhat = (x - mean) * invstd
    if relu:
        g = g * (xhat * w[:, None] + b[:, None] > 0)
    gw = (g * xhat).sum(axis=(0, 2))
    gb = g.sum(axis=(0, 2))
    if training:
        gx = w[:, None] * invstd / M * (M * g - gb[:, None] - xhat * gw[:, None])
    else:
        gx = g * w[:, None] * invstd
    return gx, gw, gb, mean.ravel(), invstd.ravel()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [0, 1])
@pytest.mark.parametrize("relu", [0, 1])
def test_backward_matches_reference(dtype, training, relu):
    x, w, b, g = make(dtype, seed=3)
    gx_ref, gw_ref, gb_ref, mean, invstd = reference_backward(x, w, b, g, training, relu)
    C = x.shape[1]
    gx, gw, gb = np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype)
    y = np.empty_like(x)  # the forward's output: the ReLU's mask comes from it
    norm.batch_norm_apply(y, x, mean.astype(dtype), invstd.astype(dtype), w, b, relu)
    norm.batch_norm_backward(gx, gw, gb, g, x, y, mean.astype(dtype), invstd.astype(dtype), w,
                             training, relu, 1, 1)
    t = tol(dtype) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gx, gx_ref, **t)
    np.testing.assert_allclose(gw, gw_ref, **t)
    np.testing.assert_allclose(gb, gb_ref, **t)


def test_backward_leaves_unrequested_outputs_untouched():
    x, w, b, g = make(np.float64, seed=4)
    _, _, _, mean, invstd = reference_backward(x, w, b, g, 1, 0)
    gx = np.full_like(x, 7.0)
    gw, gb = np.full(4, 7.0), np.full(4, 7.0)
    norm.batch_norm_backward(gx, gw, gb, g, x, x, mean, invstd, w, 1, 0, 0, 0)
    assert np.all(gx == 7.0) and np.all(gw == 7.0) and np.all(gb == 7.0)
    norm.batch_norm_backward(gx, gw, gb, g, x, x, mean, invstd, w, 0, 0, 1, 0)
    np.testing.assert_allclose(gx, g * (w * invstd)[:, None], rtol=1e-12)
    assert np.all(gw == 7.0)
