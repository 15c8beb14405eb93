"""The fused Adam/AdamW, RMSprop, Adagrad and Adadelta kernels against plain-numpy statements of
PyTorch's update order (float64 scalars), several steps, both dtypes, parallel and serial."""
import itertools

import numpy as np
import pytest

from minitorch.kernels.adagrad import (adadelta_update_, adadelta_update_serial_,
                                       adagrad_update_, adagrad_update_serial_)
from minitorch.kernels.adam import adam_update_, adam_update_serial_
from minitorch.kernels.rmsprop import rmsprop_update_, rmsprop_update_serial_

N = 1000
STEPS = 4


def tolerance(dtype):
    return 2e-5 if dtype == np.float32 else 1e-13


def inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(N).astype(dtype)
    grads = [rng.standard_normal(N).astype(dtype) for _ in range(STEPS)]
    return param, grads


def adam_reference(p, grads, lr, beta1, beta2, eps, wd, amsgrad, maximize, decoupled):
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for step, grad in enumerate(grads, 1):
        g = -grad if maximize else grad
        if wd and decoupled:
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        m = m + (1 - beta1) * (g - m)
        v = v * beta2 + (1 - beta2) * g * g
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - beta2 ** step) + eps
        p = p - lr / (1 - beta1 ** step) * m / denom
    return p, m, v, vmax


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [adam_update_, adam_update_serial_])
@pytest.mark.parametrize("beta1,wd,amsgrad,maximize,decoupled", [
    f for f in itertools.product([0.9, 0.3], [0.0, 0.05], [0, 1], [0, 1], [0, 1])
    if f[1] or not f[4]])
def test_adam_kernel_matches_numpy(dtype, kernel, beta1, wd, amsgrad, maximize, decoupled):
    param, grads = inputs(dtype)
    lr, beta2, eps = 0.01, 0.99, 1e-8
    ref = adam_reference(param.astype(np.float64), [g.astype(np.float64) for g in grads], lr,
                         beta1, beta2, eps, wd, amsgrad, maximize, decoupled)
    c = np.dtype(dtype).type
    m, v = np.zeros(N, dtype), np.zeros(N, dtype)
    vmax = np.zeros(N, dtype) if amsgrad else np.empty(0, dtype)
    for step, grad in enumerate(grads, 1):
        w = c(1 - beta1)
        kernel(param, m, v, vmax, grad, c(1 - lr * wd), c(wd), w, c(1) - w, c(beta2),
               c(1 - beta2), c((1 - beta2 ** step) ** 0.5), c(eps),
               c(-lr / (1 - beta1 ** step)), amsgrad, maximize, decoupled)
    tol = tolerance(dtype)
    assert param.dtype == dtype
    np.testing.assert_allclose(param, ref[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(m, ref[1], rtol=tol, atol=tol)
    np.testing.assert_allclose(v, ref[2], rtol=tol, atol=tol)
    if amsgrad:
        np.testing.assert_allclose(vmax, ref[3], rtol=tol, atol=tol)


def rmsprop_reference(p, grads, lr, alpha, eps, wd, momentum, centered, maximize):
    s, a, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for grad in grads:
        g = -grad if maximize else grad
        g = g + wd * p
        s = s * alpha + (1 - alpha) * g * g
        avg = s
        if centered:
            a = a + (1 - alpha) * (g - a)
            avg = s - a * a
        avg = np.sqrt(avg) + eps
        if momentum:
            b = b * momentum + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
    return p, s, a, b


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [rmsprop_update_, rmsprop_update_serial_])
@pytest.mark.parametrize("alpha,wd,momentum,centered,maximize", list(itertools.product(
    [0.99, 0.3], [0.0, 0.01], [0.0, 0.9], [0, 1], [0, 1])))
def test_rmsprop_kernel_matches_numpy(dtype, kernel, alpha, wd, momentum, centered, maximize):
    param, grads = inputs(dtype, 1)
    lr, eps = 0.01, 1e-8
    ref = rmsprop_reference(param.astype(np.float64), [g.astype(np.float64) for g in grads],
                            lr, alpha, eps, wd, momentum, centered, maximize)
    c = np.dtype(dtype).type
    s = np.zeros(N, dtype)
    a = np.zeros(N, dtype) if centered else np.empty(0, dtype)
    b = np.zeros(N, dtype) if momentum else np.empty(0, dtype)
    for grad in grads:
        w = c(1 - alpha)
        kernel(param, s, a, b, grad, c(wd), c(alpha), w, c(1) - w, c(eps), c(momentum), c(-lr),
               centered, int(momentum > 0), maximize)
    tol = tolerance(dtype) * (10 if centered else 1)  # centred: s - a*a cancels digits
    np.testing.assert_allclose(param, ref[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(s, ref[1], rtol=tol, atol=tol)
    if centered:
        np.testing.assert_allclose(a, ref[2], rtol=tol, atol=tol)
    if momentum:
        np.testing.assert_allclose(b, ref[3], rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [adagrad_update_, adagrad_update_serial_])
@pytest.mark.parametrize("wd,lr_decay,init,maximize", list(itertools.product(
    [0.0, 0.1], [0.0, 0.05], [0.0, 0.5], [0, 1])))
def test_adagrad_kernel_matches_numpy(dtype, kernel, wd, lr_decay, init, maximize):
    param, grads = inputs(dtype, 2)
    lr, eps = 0.1, 1e-10
    p, s = param.astype(np.float64), np.full(N, init)
    for step, grad in enumerate(grads, 1):
        g = (-grad if maximize else grad).astype(np.float64) + wd * p
        s = s + g * g
        p = p - lr / (1 + (step - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    c = np.dtype(dtype).type
    state_sum = np.full(N, init, dtype)
    for step, grad in enumerate(grads, 1):
        kernel(param, state_sum, grad, c(wd), c(eps), c(-lr / (1 + (step - 1) * lr_decay)),
               maximize)
    tol = tolerance(dtype)
    np.testing.assert_allclose(param, p, rtol=tol, atol=tol)
    np.testing.assert_allclose(state_sum, s, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [adadelta_update_, adadelta_update_serial_])
@pytest.mark.parametrize("rho,wd,maximize", list(itertools.product([0.9, 0.3], [0.0, 0.1],
                                                                   [0, 1])))
def test_adadelta_kernel_matches_numpy(dtype, kernel, rho, wd, maximize):
    param, grads = inputs(dtype, 3)
    lr, eps = 1.0, 1e-6
    p, s, d = param.astype(np.float64), np.zeros(N), np.zeros(N)
    for grad in grads:
        g = (-grad if maximize else grad).astype(np.float64) + wd * p
        s = s * rho + (1 - rho) * g * g
        delta = np.sqrt(d + eps) / np.sqrt(s + eps) * g
        d = d * rho + (1 - rho) * delta * delta
        p = p - lr * delta
    c = np.dtype(dtype).type
    square_avg, acc_delta = np.zeros(N, dtype), np.zeros(N, dtype)
    for grad in grads:
        kernel(param, square_avg, acc_delta, grad, c(wd), c(rho), c(1 - rho), c(eps), c(-lr),
               maximize)
    tol = tolerance(dtype)
    np.testing.assert_allclose(param, p, rtol=tol, atol=tol)
    np.testing.assert_allclose(square_avg, s, rtol=tol, atol=tol)
    np.testing.assert_allclose(acc_delta, d, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_and_serial_kernels_are_bitwise_equal(dtype):
    param, grads = inputs(dtype, 4)
    c = np.dtype(dtype).type
    results = []
    for kernel in (adam_update_, adam_update_serial_):
        p, m, v, vmax = param.copy(), np.zeros(N, dtype), np.zeros(N, dtype), np.zeros(N, dtype)
        for step, grad in enumerate(grads, 1):
            kernel(p, m, v, vmax, grad, c(0.999), c(0.1), c(0.1), c(0.9), c(0.999), c(0.001),
                   c((1 - 0.999 ** step) ** 0.5), c(1e-8), c(-0.01 / (1 - 0.9 ** step)), 1, 0, 1)
        results.append((p, m, v, vmax))
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()
