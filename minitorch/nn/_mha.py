"""``F.multi_head_attention_forward``: the computation behind ``nn.MultiheadAttention``, in
PyTorch's order so that the numbers agree to float32 rounding.

Sequence-first layout throughout: query (L, N, E), key/value (S, N, kdim/vdim), or unbatched
(L, E). With ``need_weights`` the scores are formed explicitly (mask + q k^T / sqrt(d), plain
softmax, so a fully masked row is NaN as in torch) and the weights returned; without it the
heads go through ``scaled_dot_product_attention`` (a fully masked row gives 0, as in torch).
"""
import math

from .. import creation as _creation
from .._ops_shape import cat
from . import functional as F
from ._attention import AttentionShapeError, canonical_mask, scaled_dot_product_attention

__all__ = ["multi_head_attention_forward"]


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched; torch's AssertionError messages for the wrong ranks."""
    d = query.ndim
    if d not in (2, 3):
        raise AttentionShapeError(f"query should be unbatched 2D or batched 3D tensor but "
                                  f"received {d}-D query tensor")
    kind = "batched (3-D)" if d == 3 else "unbatched (2-D)"
    if key.ndim != d or value.ndim != d:
        raise AttentionShapeError(f"For {kind} `query`, expected `key` and `value` to be {d}-D "
                                  f"but found {key.ndim}-D and {value.ndim}-D tensors "
                                  f"respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != d - 1:
        raise AttentionShapeError(f"For {kind} `query`, expected `key_padding_mask` to be `None` "
                                  f"or {d - 1}-D but found {key_padding_mask.ndim}-D tensor "
                                  f"instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AttentionShapeError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                                  f"3-D but found {attn_mask.ndim}-D tensor instead")
    if d == 2 and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != expected:
            raise AttentionShapeError(f"Expected `attn_mask` shape to be {expected} but got "
                                      f"{tuple(attn_mask.shape)}")
    return d == 3


def _in_projection(query, key, value, w, b, separate):
    """q, k, v projections: one product for self-attention (query is key is value), two for
    encoder-decoder attention (key is value), else three, as torch's _in_projection_packed."""
    E = query.shape[-1]
    if separate is not None:
        w_q, w_k, w_v = separate
        b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)
    if key is value and query is key:
        return F.linear(query, w, b).chunk(3, dim=-1)
    if key is value:
        w_q, w_kv = w.split([E, 2 * E])
        b_q, b_kv = b.split([E, 2 * E]) if b is not None else (None, None)
        return (F.linear(query, w_q, b_q),) + tuple(F.linear(key, w_kv, b_kv).chunk(2, dim=-1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
    return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)


def _check_attn_mask(attn_mask, tgt_len, src_len, bsz, num_heads):
    """A 2-D (L, S) or 3-D (N * heads, L, S) float mask, as a 3-D one."""
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but "
                               f"should be {(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.ndim == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but "
                               f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")


def _pad_last(mask):
    """One more key column (bias_k or the zero key), not masked: torch's F.pad(mask, (0, 1))."""
    return None if mask is None else F.pad(mask, (0, 1))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """PyTorch's ``F.multi_head_attention_forward``; returns ``(output, weights or None)``."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask",
                                      None if attn_mask is None else attn_mask.dtype,
                                      "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None   # the hint alone: scaled_dot_product_attention builds the mask
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                   check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AttentionShapeError(f"was expecting embedding dimension of {embed_dim_to_check}, "
                                  f"but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AttentionShapeError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AttentionShapeError(f"key's sequence and batch dims {tuple(key.shape[:2])} do "
                                      f"not match value's {tuple(value.shape[:2])}")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AttentionShapeError(f"key shape {tuple(key.shape)} does not match value shape "
                                      f"{tuple(value.shape)}")
        separate = None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    if attn_mask is not None:
        attn_mask = _check_attn_mask(attn_mask, tgt_len, src_len, bsz, num_heads)

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AttentionShapeError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AttentionShapeError("bias_k and bias_v must both be given, or neither")

    BH = bsz * num_heads
    q = q.reshape(tgt_len, BH, head_dim).transpose(0, 1)
    k = _heads(k, static_k, BH, head_dim, "key")
    v = _heads(v, static_v, BH, head_dim, "value")
    if add_zero_attn:
        k = cat([k, _creation.zeros((BH, 1, head_dim), dtype=k.dtype)], dim=1)
        v = cat([v, _creation.zeros((BH, 1, head_dim), dtype=v.dtype)], dim=1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AttentionShapeError(f"expecting key_padding_mask shape of {(bsz, src_len)}, "
                                      f"but got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
        kpm = kpm.reshape(BH, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        weights = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
        if attn_mask is not None:
            weights = attn_mask + weights
        weights = F.softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    return (out if is_batched else out.squeeze(1)), None


def _heads(t, static, BH, head_dim, name):
    """(S, N, E) -> (N * heads, S, head_dim), or the given static keys/values."""
    if static is None:
        return t.reshape(t.shape[0], BH, head_dim).transpose(0, 1)
    if static.ndim != 3 or (static.shape[0], static.shape[2]) != (BH, head_dim):
        raise AttentionShapeError(f"expecting static_{name} of shape ({BH}, S, {head_dim}), "
                                  f"but got {tuple(static.shape)}")
    return static
