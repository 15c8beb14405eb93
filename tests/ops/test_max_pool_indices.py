"""Max pool computes its int64 indices only when they are returned or a backward needs them."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch.kernels import pool as pool_kernels


def _forbid_indexed_kernel(monkeypatch):
    def fail(*args):
        raise AssertionError("the indexed max-pool kernel ran although nothing needs indices")
    monkeypatch.setattr(pool_kernels, "max_pool2d_forward", fail)


def _reference(x):
    with mt.enable_grad():
        return F.max_pool2d(mt.tensor(x, requires_grad=True), 3, 2, 1).detach().numpy()


def test_no_grad_max_pool_skips_indices_and_matches_the_recorded_path(monkeypatch):
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 10)).astype(np.float32)
    ref = _reference(x)
    _forbid_indexed_kernel(monkeypatch)
    with mt.no_grad():
        out = F.max_pool2d(mt.tensor(x, requires_grad=True), 3, 2, 1)
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_array_equal(out.numpy().view(np.int32), ref.view(np.int32))


def test_input_without_grad_skips_indices_in_grad_mode(monkeypatch):
    x = np.random.default_rng(1).standard_normal((3, 9, 9)).astype(np.float32)  # unbatched
    ref = _reference(x)
    _forbid_indexed_kernel(monkeypatch)
    out = mt.nn.MaxPool2d(3, 2, 1)(mt.tensor(x))
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out.numpy(), ref)


@pytest.mark.parametrize("return_indices", [False, True])
def test_recorded_max_pool_keeps_indices_for_backward(return_indices):
    x = mt.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), requires_grad=True)
    out = F.max_pool2d(x, 2, return_indices=return_indices)
    out = out[0] if return_indices else out
    assert out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    out.sum().backward()
    expected = np.zeros(16, np.float32)
    expected[[5, 7, 13, 15]] = 1
    np.testing.assert_array_equal(x.grad.numpy().ravel(), expected)


@pytest.mark.parametrize("grad", [False, True])
def test_return_indices_still_gives_indices_without_grad(grad):
    x = mt.tensor(np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4), requires_grad=grad)
    with mt.no_grad():
        out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.dtype == mt.int64 and idx.numpy().ravel().tolist() == [5, 7, 13, 15]
    assert out.numpy().ravel().tolist() == [5, 7, 13, 15]
