"""nn.MultiheadAttention against torch 2.13: torch's state dict loads as is; outputs, returned
weights and the gradients of the inputs and of every parameter agree, for every mask kind,
batch_first both ways, need_weights both ways, kdim/vdim, add_bias_kv, add_zero_attn,
unbatched input, eval vs train with dropout 0; and torch's init and errors."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn

from ._torch_pair import assert_close, backward_and_compare, build, inputs

torch = pytest.importorskip("torch")

E, H, L, S, N = 8, 2, 4, 5, 3

MODULES = [
    "nn.MultiheadAttention(8, 2)",
    "nn.MultiheadAttention(8, 2, batch_first=True)",
    "nn.MultiheadAttention(8, 4, bias=False)",
    "nn.MultiheadAttention(8, 2, kdim=6, vdim=3)",
    "nn.MultiheadAttention(8, 2, kdim=6, vdim=3, batch_first=True, bias=False)",
    "nn.MultiheadAttention(8, 2, add_bias_kv=True)",
    "nn.MultiheadAttention(8, 2, add_zero_attn=True, batch_first=True)",
    "nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=5)",
    "nn.MultiheadAttention(8, 1, dropout=0.0)",
]

# (key_padding_mask kind, attn_mask kind): None, "bool" or "float"; attn 2-d or 3-d
MASKS = [(None, None), ("bool", None), (None, "bool"), (None, "float"), ("bool", "bool"),
         ("float", "float"), (None, "bool3"), ("float", "float3"), ("bool", "float")]


def _masks(rng, kpm_kind, attn_kind, heads, batched=True):
    t_kw, m_kw = {}, {}
    if kpm_kind is not None:
        pad = rng.random((N, S) if batched else (S,)) < 0.3
        pad[..., 0] = False                    # every query keeps a key: no NaN rows
        kpm = pad if kpm_kind == "bool" else np.where(pad, -1e4, 0.0).astype(np.float32)
        t_kw["key_padding_mask"], m_kw["key_padding_mask"] = torch.tensor(kpm), mt.tensor(kpm)
    if attn_kind is not None:
        shape = (N * heads, L, S) if attn_kind.endswith("3") else (L, S)
        if attn_kind.startswith("bool"):
            mask = rng.random(shape) < 0.3
            mask[..., 0] = False
        else:
            mask = rng.standard_normal(shape).astype(np.float32)
        t_kw["attn_mask"], m_kw["attn_mask"] = torch.tensor(mask), mt.tensor(mask)
    return t_kw, m_kw


def _qkv(rng, m_mod, self_attention, batched=True):
    bf = m_mod.batch_first and batched
    lead = (lambda n: (N, n) if bf else (n, N)) if batched else (lambda n: (n,))
    if self_attention:
        (pair,) = inputs(torch, rng, [lead(L) + (E,)])
        return [pair] * 3, [pair]
    pairs = inputs(torch, rng, [lead(L) + (E,), lead(S) + (m_mod.kdim,),
                                lead(S) + (m_mod.vdim,)])
    return pairs, pairs


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("text", MODULES)
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kpm_kind,attn_kind", MASKS)
def test_matches_torch_with_every_mask(text, need_weights, kpm_kind, attn_kind):
    rng = np.random.default_rng(0)
    t_mod, m_mod = build(torch, text)
    pairs, leaves = _qkv(rng, m_mod, self_attention=False)
    t_kw, m_kw = _masks(rng, kpm_kind, attn_kind, m_mod.num_heads)
    t_out, t_w = t_mod(*[p[0] for p in pairs], need_weights=need_weights, **t_kw)
    m_out, m_w = m_mod(*[p[1] for p in pairs], need_weights=need_weights, **m_kw)
    assert_close(m_out, t_out, what="output")
    assert_close(m_w, t_w, what="weights")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, leaves)


@pytest.mark.parametrize("text", ["nn.MultiheadAttention(8, 2)",
                                  "nn.MultiheadAttention(8, 2, batch_first=True)"])
@pytest.mark.parametrize("average", [True, False])
def test_self_attention_weights_per_head_and_causal_hint(text, average):
    rng = np.random.default_rng(1)
    t_mod, m_mod = build(torch, text)
    pairs, leaves = _qkv(rng, m_mod, self_attention=True)
    causal = np.triu(np.full((L, L), -np.inf, dtype=np.float32), 1)
    for need_weights in (True, False):
        t_out, t_w = t_mod(*[p[0] for p in pairs], attn_mask=torch.tensor(causal),
                           is_causal=True, need_weights=need_weights,
                           average_attn_weights=average)
        m_out, m_w = m_mod(*[p[1] for p in pairs], attn_mask=mt.tensor(causal), is_causal=True,
                           need_weights=need_weights, average_attn_weights=average)
        assert_close(m_out, t_out, what="output")
        assert_close(m_w, t_w, what="weights")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, leaves)


@pytest.mark.parametrize("text", ["nn.MultiheadAttention(8, 2)",
                                  "nn.MultiheadAttention(8, 2, kdim=6, vdim=3, batch_first=True)"])
@pytest.mark.filterwarnings("ignore:Support for mismatched")
def test_unbatched_input_with_masks(text):
    rng = np.random.default_rng(2)
    t_mod, m_mod = build(torch, text)
    pairs, leaves = _qkv(rng, m_mod, self_attention=False, batched=False)
    t_kw, m_kw = _masks(rng, "bool", "float3", m_mod.num_heads, batched=False)
    t_kw["attn_mask"] = t_kw["attn_mask"][:m_mod.num_heads]
    m_kw["attn_mask"] = m_kw["attn_mask"][:m_mod.num_heads]
    t_out, t_w = t_mod(*[p[0] for p in pairs], **t_kw)
    m_out, m_w = m_mod(*[p[1] for p in pairs], **m_kw)
    assert_close(m_out, t_out, what="output")
    assert_close(m_w, t_w, what="weights")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, leaves)


def test_eval_and_no_grad_match_torch_fast_path():
    rng = np.random.default_rng(3)
    t_mod, m_mod = build(torch, "nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)")
    t_mod.eval(), m_mod.eval()
    (pair,) = inputs(torch, rng, [(N, L, E)], grad=False)
    pad = rng.random((N, L)) < 0.3
    pad[:, 0] = False
    t_kw, m_kw = {"key_padding_mask": torch.tensor(pad)}, {"key_padding_mask": mt.tensor(pad)}
    with torch.no_grad(), mt.no_grad():
        for need_weights in (True, False):
            t_out, _ = t_mod(pair[0], pair[0], pair[0], need_weights=need_weights, **t_kw)
            m_out, _ = m_mod(pair[1], pair[1], pair[1], need_weights=need_weights, **m_kw)
            assert_close(m_out, t_out, what="output")


def test_dropout_in_training_changes_output_and_eval_does_not():
    mt.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = mt.randn(L, N, E)
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    c, w = m(x, x, x, average_attn_weights=False)
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())
    assert (w.detach().numpy() == 0).mean() > 0.3      # dropped attention weights


def test_parameters_init_and_state_dict_keys_are_torchs():
    mt.manual_seed(0)
    m = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6.0 / (16 + 48))                       # xavier-uniform of (48, 16)
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, nn.Linear)
    assert repr(m) == repr(t)
    sep = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, bias=False)
    assert list(sep.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                      "out_proj.weight"]
    assert sep.in_proj_weight is None and sep.in_proj_bias is None


def test_errors_name_the_culprit():
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2)
    x = mt.randn(L, N, E)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
        m(mt.randn(L, N, 6), mt.randn(L, N, 6), mt.randn(L, N, 6))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(3, 4\)"):
        m(x, x, x, attn_mask=mt.zeros(3, 4))
    with pytest.raises(AssertionError, match="expecting key_padding_mask shape of"):
        m(x, x, x, key_padding_mask=mt.zeros(N, L + 1, dtype=mt.bool))
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        m(x, x, x, attn_mask=mt.zeros(L, L, dtype=mt.int64))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        m(x[None], x[None], x[None])


def test_mismatched_mask_types_warn_like_torch():
    m = nn.MultiheadAttention(8, 2)
    x = mt.randn(L, N, E)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=mt.zeros(N, L, dtype=mt.bool), attn_mask=mt.zeros(L, L))
