"""The Transformer layers against torch 2.13 (torch's state dict loaded into ours): outputs and
the gradients of the inputs and of every parameter, post-norm and pre-norm, relu/gelu/callable
activations, batch_first both ways, masks of every kind, train with dropout 0 and eval."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn

from ._torch_pair import assert_close, backward_and_compare, build, inputs

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:Support for mismatched")]

D, L, T, N = 8, 5, 4, 3


def _seq(batch_first, n, batched=True):
    if not batched:
        return (n, D)
    return (N, n, D) if batch_first else (n, N, D)


def _pad_mask(rng, n, kind):
    pad = rng.random((N, n)) < 0.3
    pad[:, 0] = False
    value = pad if kind == "bool" else np.where(pad, -np.inf, 0.0).astype(np.float32)
    return torch.tensor(value), mt.tensor(value)


def _causal(n, kind):
    if kind == "bool":
        value = np.triu(np.ones((n, n), dtype=bool), 1)
    else:
        value = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
    return torch.tensor(value), mt.tensor(value)


ENCODER_LAYERS = [
    "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)",
    "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)",
    "nn.TransformerEncoderLayer(8, 4, 12, dropout=0.0, activation='gelu', bias=False)",
    "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=nn.GELU(), "
    "layer_norm_eps=1e-3)",
    "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=F.silu, batch_first=True)",
]


@pytest.mark.parametrize("text", ENCODER_LAYERS)
@pytest.mark.parametrize("masks", ["none", "causal_float", "causal_bool+pad_bool",
                                   "pad_float", "causal_hint"])
def test_encoder_layer_matches_torch(text, masks):
    rng = np.random.default_rng(0)
    t_mod, m_mod = build(torch, text)
    bf = m_mod.self_attn.batch_first
    (x,) = inputs(torch, rng, [_seq(bf, L)])
    t_kw, m_kw = {}, {}
    if "causal" in masks:
        t_kw["src_mask"], m_kw["src_mask"] = _causal(L, "bool" if "causal_bool" in masks
                                                     else "float")
    if "pad" in masks:
        t_kw["src_key_padding_mask"], m_kw["src_key_padding_mask"] = _pad_mask(
            rng, L, "bool" if "pad_bool" in masks else "float")
    if masks == "causal_hint":
        t_kw["is_causal"] = m_kw["is_causal"] = True
    t_out, m_out = t_mod(x[0], **t_kw), m_mod(x[1], **m_kw)
    assert_close(m_out, t_out, what="output")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, [x])


DECODER_LAYERS = [
    "nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)",
    "nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True, "
    "activation='gelu')",
]


@pytest.mark.parametrize("text", DECODER_LAYERS)
@pytest.mark.parametrize("with_masks", [False, True])
def test_decoder_layer_matches_torch(text, with_masks):
    rng = np.random.default_rng(1)
    t_mod, m_mod = build(torch, text)
    bf = m_mod.self_attn.batch_first
    tgt, mem = inputs(torch, rng, [_seq(bf, T), _seq(bf, L)])
    t_kw, m_kw = {}, {}
    if with_masks:
        t_kw["tgt_mask"], m_kw["tgt_mask"] = _causal(T, "float")
        t_kw["tgt_key_padding_mask"], m_kw["tgt_key_padding_mask"] = _pad_mask(rng, T, "bool")
        t_kw["memory_key_padding_mask"], m_kw["memory_key_padding_mask"] = _pad_mask(rng, L,
                                                                                     "bool")
        mm = rng.standard_normal((T, L)).astype(np.float32)
        t_kw["memory_mask"], m_kw["memory_mask"] = torch.tensor(mm), mt.tensor(mm)
    t_out, m_out = t_mod(tgt[0], mem[0], **t_kw), m_mod(tgt[1], mem[1], **m_kw)
    assert_close(m_out, t_out, what="output")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, [tgt, mem])


@pytest.mark.parametrize("batch_first", [False, True])
def test_stacked_encoder_with_final_norm_and_detected_causal_mask(batch_first):
    rng = np.random.default_rng(2)
    text = (f"nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, "
            f"batch_first={batch_first}), 3, norm=nn.LayerNorm(8), enable_nested_tensor=False)")
    t_mod, m_mod = build(torch, text)
    assert list(m_mod.state_dict())[:2] == ["layers.0.self_attn.in_proj_weight",
                                            "layers.0.self_attn.in_proj_bias"]
    (x,) = inputs(torch, rng, [_seq(batch_first, L)])
    tm, mm = _causal(L, "float")
    tp, mp = _pad_mask(rng, L, "bool")
    t_out = t_mod(x[0], mask=tm, src_key_padding_mask=tp)
    m_out = m_mod(x[1], mask=mm, src_key_padding_mask=mp)
    assert_close(m_out, t_out, what="output")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, [x])


@pytest.mark.parametrize("batch_first", [False, True])
def test_full_transformer_matches_torch_in_train_and_eval(batch_first):
    rng = np.random.default_rng(3)
    text = (f"nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, "
            f"dim_feedforward=16, dropout=0.0, batch_first={batch_first})")
    t_mod, m_mod = build(torch, text)
    assert len(m_mod.state_dict()) == len(t_mod.state_dict()) == 2 * 12 + 2 * 18 + 4
    src, tgt = inputs(torch, rng, [_seq(batch_first, L), _seq(batch_first, T)])
    tm = torch.nn.Transformer.generate_square_subsequent_mask(T)
    mm = nn.Transformer.generate_square_subsequent_mask(T)
    np.testing.assert_array_equal(mm.numpy(), tm.numpy())
    tp, mp = _pad_mask(rng, L, "bool")
    t_out = t_mod(src[0], tgt[0], tgt_mask=tm, src_key_padding_mask=tp,
                  memory_key_padding_mask=tp)
    m_out = m_mod(src[1], tgt[1], tgt_mask=mm, src_key_padding_mask=mp,
                  memory_key_padding_mask=mp)
    assert_close(m_out, t_out, what="output")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, [src, tgt])
    t_mod.eval(), m_mod.eval()
    with torch.no_grad(), mt.no_grad():
        t_out = t_mod(src[0].detach(), tgt[0].detach(), tgt_mask=tm)
        m_out = m_mod(src[1].detach(), tgt[1].detach(), tgt_mask=mm)
    assert_close(m_out, t_out, what="eval output")


def test_unbatched_input_matches_torch():
    rng = np.random.default_rng(4)
    t_mod, m_mod = build(torch, "nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)")
    src, tgt = inputs(torch, rng, [(L, D), (T, D)])
    t_out = t_mod(src[0], tgt[0], tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(T))
    m_out = m_mod(src[1], tgt[1], tgt_mask=nn.Transformer.generate_square_subsequent_mask(T))
    assert_close(m_out, t_out, what="output")
    backward_and_compare(torch, t_mod, m_mod, t_out, m_out, [src, tgt])


def test_transformer_init_is_xavier_on_matrices_and_reprs_match():
    mt.manual_seed(0)
    m = nn.Transformer(16, 2, 1, 1, 32)
    w = m.encoder.layers[0].linear1.weight.detach().numpy()      # (32, 16)
    bound = np.sqrt(6.0 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(m.decoder.norm.weight.detach().numpy() == 1)
    t_layer = torch.nn.TransformerDecoderLayer(8, 2, 16, activation="gelu")
    assert repr(nn.TransformerDecoderLayer(8, 2, 16, activation="gelu")) == repr(t_layer)
    layers = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 2).layers
    assert layers[0] is not layers[1]                               # deep copies
    assert layers[0].linear1.weight is not layers[1].linear1.weight


def test_dropout_is_active_in_training_only():
    mt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = mt.randn(L, N, D)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_errors_are_torchs():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    m = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        m(mt.randn(L, 2, D), mt.randn(T, 3, D))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        m(mt.randn(L, 2, D), mt.randn(T, 2, 6))
