"""``F.scaled_dot_product_attention`` and the mask helpers the attention layers share.

Built from differentiable ops (batched matmul on BLAS, the fused row softmax), in the order of
PyTorch's reference ("math") implementation, so values, gradients (of query, key, value and a
float mask) and double backward come from the ops' own, tested derivatives:

    scores = (query * scale) @ key^T          # (..., L, S)
    scores = scores + mask  /  scores.masked_fill(~bool_mask, -inf)
    weights = safe_softmax(scores)            # a row masked out entirely gives 0, not NaN
    out = dropout(weights, dropout_p) @ value # (..., L, Ev)

A fused single op was measured against this (see README): the two matmuls and the softmax are
the work either way, so the composite is kept.
"""
import math
import numbers
import warnings

import numpy as np

from .. import creation as _creation
from ..ops.attention import SafeSoftmax
from ..tensor import Tensor
from . import functional as F

__all__ = ["scaled_dot_product_attention", "canonical_mask", "AttentionShapeError"]


class AttentionShapeError(AssertionError, ValueError):
    """A query/key/value/mask of the wrong rank or shape (PyTorch raises AssertionError)."""


def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """PyTorch's ``F._canonical_mask``: a bool mask (True = masked out) becomes an additive float
    mask of ``target_type`` (-inf where True, 0 elsewhere); a float mask is returned as is."""
    if mask is None:
        return None
    kind = mask._data.dtype.kind
    if kind not in "bf":
        raise AttentionShapeError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      f"Use same type for both instead.")
    if kind == "b":
        return _creation.zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa):
    if not isinstance(is_causal, bool):
        raise TypeError(f"scaled_dot_product_attention(): argument 'is_causal' must be bool, "
                        f"not {type(is_causal).__name__}")
    if not isinstance(dropout_p, numbers.Real) or not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: "
                           f"{value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead.")
    if query._data.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: expected floating-point query, key "
                           f"and value, got {query.dtype}")
    if key.shape[-1] != query.shape[-1] or value.shape[-2] != key.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {tuple(query.shape)}, key "
                           f"{tuple(key.shape)} and value {tuple(value.shape)} must be (..., L, E),"
                           f" (..., S, E) and (..., S, Ev)")
    if attn_mask is not None:
        if attn_mask._data.dtype != np.bool_ and attn_mask.dtype != query.dtype:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                               f"dtype, but got attn_mask.dtype: {attn_mask.dtype} and  "
                               f"query.dtype: {query.dtype} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        if attn_mask.ndim < 2:
            raise IndexError(f"scaled_dot_product_attention: attn_mask must be at least 2-d "
                             f"(..., L, S), got shape {tuple(attn_mask.shape)}")
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"Number of heads in key and value must divide the number of "
                               f"heads in query: query has {hq}, key {hk}, value {hv}")


def _expand_heads(query, key, value):
    """Grouped-query attention: repeat each key/value head for its group of query heads."""
    hq = query.shape[-3]
    if key.shape[-3] != hq:
        key = key.repeat_interleave(hq // key.shape[-3], dim=-3)
    if value.shape[-3] != hq:
        value = value.repeat_interleave(hq // value.shape[-3], dim=-3)
    return key, value


def _broadcasts_to(shape, target):
    """Whether ``shape`` broadcasts to ``target`` without growing it (the mask is added in
    place to the scores, as torch does)."""
    return len(shape) <= len(target) and all(
        a in (1, b) for a, b in zip(shape[::-1], target[::-1]))


def _scores_shape(query, key):
    batch = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
    return tuple(batch) + (query.shape[-2], key.shape[-2])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims, PyTorch's.

    ``attn_mask``: bool (True = may attend) or a float mask of query's dtype added to the scores,
    broadcastable to (..., L, S). ``is_causal``: query i attends keys 0..i (top-left aligned when
    L != S). ``scale`` defaults to 1/sqrt(E). ``dropout_p`` drops attention weights (always,
    like torch: pass 0 in eval). ``enable_gqa``: key/value heads (dim -3) may divide query's.
    """
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        key, value = _expand_heads(query, key, value)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    L, S = query.shape[-2], key.shape[-2]
    shape = _scores_shape(query, key)
    if attn_mask is not None and not _broadcasts_to(tuple(attn_mask.shape), shape):
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                           f"{tuple(attn_mask.shape)} does not broadcast to the scores' shape "
                           f"{shape}")
    scores = (query * scale) @ key.transpose(-2, -1)
    if is_causal:
        attn_mask = Tensor._new(np.tril(np.ones((L, S), dtype=np.bool_)))
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
    weights = SafeSoftmax.apply(scores)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ value
