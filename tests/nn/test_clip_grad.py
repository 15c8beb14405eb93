"""``nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` against live torch: total norms (2, 1,
3.5, inf), the scaled gradients, skipped None grads, float32 and float64, and the errors."""
import math

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn


def make_params(lib, dtype=np.float64, seed=0, scale=1.0, none_at=None):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    params = []
    for i, shape in enumerate(shapes):
        p = lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        if i != none_at:
            p.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(dtype))
        params.append(p)
    return params


def grads_of(params):
    return [None if p.grad is None else np.array(p.grad.numpy()) for p in params]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipped, and left (scaled by 1)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_live_torch(norm_type, max_norm, dtype):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        params = make_params(lib, dtype, none_at=1)
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        out.append((total, grads_of(params)))
    (t_total, t_grads), (m_total, m_grads) = out
    assert isinstance(m_total, mt.Tensor) and m_total.shape == ()
    assert m_total.dtype == (mt.float32 if dtype == np.float32 else mt.float64)
    rtol = 2e-7 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(m_total.item(), t_total.item(), rtol=rtol)
    assert m_grads[1] is None and t_grads[1] is None
    for a, b in zip(m_grads, t_grads):
        if a is not None:
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=4 * rtol, atol=0)


def test_clipped_norm_is_max_norm_and_direction_kept():
    params = make_params(mt, scale=10.0)
    before = grads_of(params)
    total = nn.utils.clip_grad_norm_(params, 1.0)
    flat = np.concatenate([g.ravel() for g in grads_of(params)])
    assert total.item() > 10
    np.testing.assert_allclose(np.linalg.norm(flat), 1.0, rtol=1e-5)
    for a, b in zip(grads_of(params), before):
        np.testing.assert_allclose(a, b * (1.0 / (total.item() + 1e-6)), rtol=1e-12)


def test_generator_single_tensor_and_model_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model(mt.randn(5, 3)).sum().backward()
    expected = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum()
                           for p in model.parameters()))
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e9)
    np.testing.assert_allclose(total.item(), expected, rtol=1e-6)
    p = mt.tensor(np.ones(4), requires_grad=True)
    p.grad = mt.tensor(np.full(4, 2.0))
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == 4.0
    np.testing.assert_allclose(p.grad.numpy(), np.full(4, 2.0 / (4.0 + 1e-6)))


def test_no_grads_gives_zero_norm_like_torch():
    p = mt.tensor(np.ones(2), requires_grad=True)
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total.item() == 0.0 and total.dtype == mt.float32 and p.grad is None


def test_nonfinite_norm_raises_when_asked_and_scales_otherwise():
    params = make_params(mt)
    params[0].grad.numpy()[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(params, 1.0)  # torch: scales by the NaN norm anyway
    assert math.isnan(total.item()) and np.isnan(params[1].grad.numpy()).all()


def test_inf_gradient_with_inf_norm_matches_torch():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        params = make_params(lib)
        params[2].grad[0, 0, 0] = math.inf
        total = lib.nn.utils.clip_grad_norm_(params, 1.0, norm_type=math.inf)
        out.append((total.item(), grads_of(params)))
    assert out[0][0] == out[1][0] == math.inf
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs,message", [({"max_norm": -1.0}, "max_norm must be"),
                                            ({"max_norm": 1.0, "norm_type": "l2"},
                                             "norm_type must be")])
def test_bad_arguments_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.utils.clip_grad_norm_(make_params(mt), **kwargs)


def test_get_total_norm_and_clip_grads_with_norm_compose_like_torch():
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        params = make_params(lib, seed=3)
        total = lib.nn.utils.get_total_norm([p.grad for p in params], 3.0)
        lib.nn.utils.clip_grads_with_norm_(params, 0.7, total)
        out.append((total.item(), grads_of(params)))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-14)
    for a, b in zip(out[1][1], out[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_value_matches_live_torch(dtype):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (torch, mt):
        params = make_params(lib, dtype, seed=5, none_at=0)
        assert lib.nn.utils.clip_grad_value_(params, 0.4) is None
        out.append(grads_of(params))
    assert out[1][0] is None
    for a, b in zip(out[1][1:], out[0][1:]):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
        assert np.abs(a).max() == pytest.approx(0.4)


def test_clip_grad_value_bad_value_is_a_value_error():
    with pytest.raises(ValueError, match="clip_value must be a number"):
        nn.utils.clip_grad_value_(make_params(mt), None)


def test_clipping_writes_into_the_grad_storage():
    p = mt.tensor(np.ones(3), requires_grad=True)
    p.grad = mt.tensor(np.full(3, 10.0))
    storage = p.grad.numpy()
    version = p.grad._version
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(storage, np.ones(3))
    assert p.grad._version > version
