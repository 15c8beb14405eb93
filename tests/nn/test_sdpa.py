"""F.scaled_dot_product_attention against torch 2.13: values and the gradients of query, key,
value and a float mask, for every mask kind, broadcast batch/head dims, grouped-query attention,
causal masks with L != S, fully masked rows, and torch's errors."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(rng, shape, dtype=np.float32, grad=True):
    a = rng.standard_normal(shape).astype(dtype)
    return torch.tensor(a, requires_grad=grad), mt.tensor(a, requires_grad=grad)


def _compare(tq, tk, tv, mq, mk, mv, t_kw, m_kw, extra=(), atol=2e-6):
    out_t = TF.scaled_dot_product_attention(tq, tk, tv, **t_kw)
    out_m = F.scaled_dot_product_attention(mq, mk, mv, **m_kw)
    assert tuple(out_m.shape) == tuple(out_t.shape)
    assert out_m.dtype == getattr(mt, str(out_t.dtype).split(".")[-1])
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(out_t.shape)).astype(out_m.detach().numpy().dtype)
    out_t.backward(torch.tensor(g))
    out_m.backward(mt.tensor(g))
    for name, (a, b) in zip(["query", "key", "value", "mask"], [(tq, mq), (tk, mk), (tv, mv),
                                                                *extra]):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=atol, err_msg=name)


CASES = [  # (q shape, k shape, v shape, mask: None | ("bool"|"float", shape), kwargs)
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), None, {}),
    ((4, 8), (6, 8), (6, 5), None, {}),                               # unbatched 2-d
    ((2, 5, 8), (2, 5, 8), (2, 5, 8), ("bool", (5, 5)), {}),
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), ("bool", (2, 1, 4, 6)), {}),
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), ("float", (3, 4, 6)), {}),
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), ("float", (1, 1, 1, 6)), {}),
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), None, {"is_causal": True}),   # L < S
    ((1, 2, 6, 4), (1, 2, 3, 4), (1, 2, 3, 2), None, {"is_causal": True}),   # L > S
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), None, {"scale": 0.3}),
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), None, {"scale": -0.5}),
    ((1, 3, 4, 8), (2, 1, 6, 8), (2, 1, 6, 5), None, {}),             # batch and heads broadcast
    ((2, 4, 4, 8), (2, 2, 6, 8), (2, 2, 6, 5), None, {"enable_gqa": True}),
    ((2, 6, 4, 8), (2, 1, 6, 8), (2, 3, 6, 5), ("bool", (4, 6)), {"enable_gqa": True}),
    ((1, 2, 3, 4, 8), (1, 2, 3, 6, 8), (1, 2, 3, 6, 5), ("float", (4, 6)), {}),   # 5-d
]


@pytest.mark.parametrize("qs,ks,vs,mask,kw", CASES)
def test_values_and_gradients_match_torch(qs, ks, vs, mask, kw):
    rng = np.random.default_rng(0)
    (tq, mq), (tk, mk), (tv, mv) = _pair(rng, qs), _pair(rng, ks), _pair(rng, vs)
    t_kw, m_kw, extra = dict(kw), dict(kw), ()
    if mask is not None:
        kind, shape = mask
        if kind == "bool":
            m = rng.random(shape) < 0.6
            t_kw["attn_mask"], m_kw["attn_mask"] = torch.tensor(m), mt.tensor(m)
        else:
            tm, mm = _pair(rng, shape)
            t_kw["attn_mask"], m_kw["attn_mask"] = tm, mm
            extra = ((tm, mm),)
    _compare(tq, tk, tv, mq, mk, mv, t_kw, m_kw, extra)


def test_fully_masked_rows_give_zero_output_and_zero_gradients():
    rng = np.random.default_rng(2)
    (tq, mq), (tk, mk), (tv, mv) = (_pair(rng, (2, 4, 8)), _pair(rng, (2, 5, 8)),
                                    _pair(rng, (2, 5, 3)))
    keep = rng.random((4, 5)) < 0.5
    keep[1] = False                              # query 1 may attend nothing
    keep[2] = True
    bias = np.where(keep, 0.0, -np.inf).astype(np.float32)
    for t_mask, m_mask in ((torch.tensor(keep), mt.tensor(keep)),
                           (torch.tensor(bias), mt.tensor(bias))):
        for t in (tq, tk, tv, mq, mk, mv):
            t.grad = None
        _compare(tq, tk, tv, mq, mk, mv, {"attn_mask": t_mask}, {"attn_mask": m_mask})
        out = F.scaled_dot_product_attention(mq, mk, mv, attn_mask=m_mask)
        assert np.all(out.detach().numpy()[:, 1] == 0)
        assert np.all(mq.grad.numpy()[:, 1] == 0)


def test_float64_gradcheck_including_the_mask():
    rng = np.random.default_rng(3)
    q, k, v, m = (mt.tensor(rng.standard_normal(s), dtype=mt.float64, requires_grad=True)
                  for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5)))
    assert mt.autograd.gradcheck(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), (q, k, v, m))


def test_second_derivative_matches_torch():
    rng = np.random.default_rng(4)
    (tq, mq), (tk, mk), (tv, mv) = (_pair(rng, (2, 3, 4), np.float64), _pair(rng, (2, 5, 4),
                                    np.float64), _pair(rng, (2, 5, 2), np.float64))
    grads = []
    for lib, fn, (q, k, v) in ((torch, TF, (tq, tk, tv)), (mt, F, (mq, mk, mv))):
        out = fn.scaled_dot_product_attention(q, k, v, is_causal=True)
        (gq,) = lib.autograd.grad((out ** 2).sum(), q, create_graph=True)
        (gk,) = lib.autograd.grad(gq.sum(), k)
        grads.append((gq.detach().numpy(), gk.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_dropout_zeroes_weights_and_rescales_the_rest():
    mt.manual_seed(0)
    q = mt.zeros(1, 2000, 4)
    k = mt.zeros(1, 4, 4)                       # uniform weights: 1/4 each
    v = mt.eye(4).reshape(1, 4, 4)              # so out[i, j] is weight[i, j]
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    assert set(np.unique(out)) <= {0.0, 0.5}    # dropped, or 1/4 scaled by 1/(1-p)
    assert abs((out == 0).mean() - 0.5) < 0.03
    no_drop = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy()
    np.testing.assert_allclose(no_drop, 0.25)


def _raises(exc, match, *args, **kw):
    with pytest.raises(exc, match=match):
        F.scaled_dot_product_attention(*args, **kw)


def test_errors_are_torchs():
    q, k, v = mt.randn(2, 3, 4, 8), mt.randn(2, 3, 6, 8), mt.randn(2, 3, 6, 5)
    m = mt.ones(4, 6, dtype=mt.bool)
    _raises(RuntimeError, "Explicit attn_mask should not be set when is_causal=True", q, k, v,
            attn_mask=m, is_causal=True)
    _raises(RuntimeError, "same dtype", q, k.double(), v)
    _raises(RuntimeError, "attn_mask dtype to be bool or float", q, k, v,
            attn_mask=mt.zeros(4, 6, dtype=mt.int64))
    _raises(RuntimeError, "attn_mask dtype to be bool or float", q, k, v,
            attn_mask=mt.zeros(4, 6, dtype=mt.float64))
    _raises(RuntimeError, "at least 2 dimensional", q[0, 0, 0], k[0, 0], v[0, 0])
    _raises(RuntimeError, "between 0 and 1", q, k, v, dropout_p=1.5)
    _raises(TypeError, "'is_causal' must be bool", q, k, v, is_causal=1)
    _raises(RuntimeError, r"\(\.\.\., L, E\)", q, k[..., :7], v)
    _raises(RuntimeError, r"\(\.\.\., L, E\)", q, k, v[:, :, :4])
    _raises(RuntimeError, "does not broadcast", q, k, v, attn_mask=mt.zeros(3, 6))
    _raises(RuntimeError, "Number of heads", q, k[:, :2], v[:, :2], enable_gqa=True)
    for args in ((q, k, v, {"attn_mask": mt.zeros(3, 6)}),
                 (q, k, v, {"attn_mask": mt.zeros(2, 1, 1, 4, 6)}),
                 (q, k[:, :2], v[:, :2], {"enable_gqa": True}),
                 (q, k, v, {"attn_mask": m, "is_causal": True})):
        tq, tk, tv = (torch.tensor(t.numpy()) for t in args[:3])
        t_kw = {key: torch.tensor(val.numpy()) if isinstance(val, mt.Tensor) else val
                for key, val in args[3].items()}
        with pytest.raises(RuntimeError):
            TF.scaled_dot_product_attention(tq, tk, tv, **t_kw)
        with pytest.raises(RuntimeError):
            F.scaled_dot_product_attention(*args[:3], **args[3])


def test_empty_key_sequence_gives_zeros_like_torch():
    out = F.scaled_dot_product_attention(mt.randn(2, 3, 4), mt.randn(2, 0, 4), mt.randn(2, 0, 5))
    assert tuple(out.shape) == (2, 3, 5) and np.all(out.numpy() == 0)
