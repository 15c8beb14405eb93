"""Softmax, log-softmax and fused cross-entropy kernels against numpy."""
import numpy as np
import pytest

from minitorch.kernels import loss


def log_softmax_ref(x):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_and_softmax_forward_backward(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5, 7)) * 30).astype(dtype)  # large logits: needs the max shift
    g = rng.standard_normal((5, 7)).astype(dtype)
    ls, sm = np.empty_like(x), np.empty_like(x)
    loss.log_softmax_forward(ls, x)
    loss.softmax_forward(sm, x)
    ref = log_softmax_ref(x)
    np.testing.assert_allclose(ls, ref, **tol(dtype))
    np.testing.assert_allclose(sm, np.exp(ref), **tol(dtype))
    gls, gsm = np.empty_like(x), np.empty_like(x)
    loss.log_softmax_backward(gls, g, ls)
    loss.softmax_backward(gsm, g, sm)
    p, g64 = np.exp(ref), g.astype(np.float64)
    np.testing.assert_allclose(gls, g64 - p * g64.sum(axis=1, keepdims=True), **tol(dtype))
    np.testing.assert_allclose(gsm, p * (g64 - (g64 * p).sum(axis=1, keepdims=True)),
                               **tol(dtype))


def ce_reference(x, t, w, eps, ignore):
    logp = log_softmax_ref(x)
    keep = t != ignore
    tt = np.where(keep, t, 0)
    nll = -logp[np.arange(len(t)), tt] * w[tt]
    smooth = -(logp * w).sum(axis=1)
    rows = np.where(keep, (1 - eps) * nll + eps / x.shape[1] * smooth, 0)
    return rows, np.where(keep, w[tt], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_rows_and_gradient(dtype, eps):
    rng = np.random.default_rng(1)
    R, C, ignore = 9, 6, -100
    x = (rng.standard_normal((R, C)) * 3).astype(dtype)
    t = rng.integers(0, C, R).astype(np.int64)
    t[[2, 5]] = ignore
    w = rng.uniform(0.5, 2, C).astype(dtype)
    rows, rw = np.empty(R, dtype), np.empty(R, dtype)
    loss.cross_entropy_forward(rows, rw, x, t, w, eps, ignore)
    ref_rows, ref_rw = ce_reference(x, t, w, eps, ignore)
    np.testing.assert_allclose(rows, ref_rows, **tol(dtype))
    np.testing.assert_allclose(rw, ref_rw, **tol(dtype))
    # gradient of sum_r s_r * loss_r, checked by central differences in float64
    s = rng.standard_normal(R).astype(dtype)
    gx = np.full_like(x, np.nan)
    loss.cross_entropy_backward(gx, x, t, w, s, eps, ignore)
    x64, h = x.astype(np.float64), 1e-6
    num = np.empty_like(x64)
    for i in range(R):
        for j in range(C):
            xp, xm = x64.copy(), x64.copy()
            xp[i, j] += h
            xm[i, j] -= h
            f = [(s * ce_reference(z, t, w.astype(np.float64), eps, ignore)[0]).sum()
                 for z in (xp, xm)]
            num[i, j] = (f[0] - f[1]) / (2 * h)
    t_ = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gx, num, **t_)
    assert np.all(gx[[2, 5]] == 0)
