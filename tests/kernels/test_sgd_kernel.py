"""The fused SGD kernel against a plain-numpy statement of PyTorch's update order."""
import itertools

import numpy as np
import pytest

from minitorch.kernels.sgd import sgd_update_, sgd_update_serial_


def reference_step(param, buf, grad, lr, momentum, dampening, weight_decay, nesterov, maximize,
                   first):
    """torch.optim.SGD's single-tensor update, one numpy op at a time (float64 scalars)."""
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        buf = g.copy() if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return param - lr * g, buf


# (momentum, dampening, weight_decay, nesterov, maximize); nesterov only where SGD allows it.
FLAGS = [f for f in itertools.product([0.0, 0.9], [0.0, 0.25], [0.0, 0.01], [False, True],
                                      [False, True])
         if not f[3] or (f[0] > 0 and f[1] == 0)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov,maximize", FLAGS)
def test_kernel_matches_numpy_reference_over_several_steps(dtype, momentum, dampening,
                                                           weight_decay, nesterov, maximize):
    rng = np.random.default_rng(0)
    n = 1000
    param = rng.standard_normal(n).astype(dtype)
    ref_param = param.astype(np.float64)
    buf = np.zeros(n, dtype) if momentum else np.empty(0, dtype)
    ref_buf = None
    c = np.dtype(dtype).type
    for step in range(4):
        grad = rng.standard_normal(n).astype(dtype)
        sgd_update_(param, buf, grad, c(0.1), c(momentum), c(1 - dampening), c(weight_decay),
                    int(nesterov), int(maximize), int(momentum != 0), int(step == 0))
        ref_param, ref_buf = reference_step(ref_param, ref_buf, grad.astype(np.float64), 0.1,
                                            momentum, dampening, weight_decay, nesterov,
                                            maximize, step == 0)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    assert param.dtype == dtype
    np.testing.assert_allclose(param, ref_param, rtol=tol, atol=tol)
    if momentum:
        np.testing.assert_allclose(buf, ref_buf, rtol=tol, atol=tol)


def test_first_step_sets_buffer_to_the_decayed_gradient_ignoring_its_old_contents():
    param = np.array([1.0, -2.0, 3.0])
    buf = np.full(3, 1e6)  # garbage: the first step must not read it
    grad = np.array([0.5, 0.5, -1.0])
    sgd_update_(param, buf, grad, 0.1, 0.9, 1.0, 0.1, 0, 0, 1, 1)
    expected_buf = grad + 0.1 * np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(buf, expected_buf)
    np.testing.assert_allclose(param, np.array([1.0, -2.0, 3.0]) - 0.1 * expected_buf)


def test_without_momentum_the_buffer_argument_is_never_touched():
    param = np.ones(4, np.float32)
    grad = np.full(4, 2.0, np.float32)
    empty = np.empty(0, np.float32)
    sgd_update_(param, empty, grad, np.float32(0.5), np.float32(0.0), np.float32(1.0),
                np.float32(0.0), 0, 0, 0, 1)
    np.testing.assert_array_equal(param, np.zeros(4, np.float32))
    assert empty.size == 0


def test_large_array_parallel_split_updates_every_element_once():
    n = 1 << 18  # large enough that the prange really splits across threads
    param = np.zeros(n)
    buf = np.empty(n)
    grad = np.arange(n, dtype=np.float64)
    sgd_update_(param, buf, grad, 1.0, 0.5, 1.0, 0.0, 0, 0, 1, 1)
    np.testing.assert_array_equal(param, -grad)
    np.testing.assert_array_equal(buf, grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov,maximize", FLAGS)
def test_serial_and_parallel_kernels_are_bitwise_equal(dtype, momentum, dampening, weight_decay,
                                                       nesterov, maximize):
    # the optimizer picks one or the other by size: crossing the threshold must change nothing
    rng = np.random.default_rng(1)
    n = 5003  # odd: a remainder after any vector width or thread split
    param = (rng.standard_normal(n) * 10).astype(dtype)
    buf = np.zeros(n, dtype) if momentum else np.empty(0, dtype)
    param2, buf2 = param.copy(), buf.copy()
    c = np.dtype(dtype).type
    for step in range(3):
        grad = rng.standard_normal(n).astype(dtype)
        args = (c(0.37), c(momentum), c(1 - dampening), c(weight_decay), int(nesterov),
                int(maximize), int(momentum != 0), int(step == 0))
        sgd_update_(param, buf, grad, *args)
        sgd_update_serial_(param2, buf2, grad, *args)
    assert param2.dtype == dtype
    np.testing.assert_array_equal(param2, param)
    assert param2.tobytes() == param.tobytes() and buf2.tobytes() == buf.tobytes()  # to the bit
