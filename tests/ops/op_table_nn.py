"""The nn.functional rows of the op table (issue 12; op_table.py adds them to its OPS), in
its format:
(name, arity, minitorch fn, numpy reference, torch fn, input domain).

Every fn accepts inputs of any shape (the gradcheck draws random shapes of rank 1-3), reshaping
them into the layout its op needs. Each row is written once against a library (``mt`` or
``torch``) and its ``nn.functional``, so both sides run the very same expression.
"""
import math

import numpy as np

import minitorch as mt
import minitorch.nn.functional as mtF


def _both(expr):
    """(minitorch fn, torch fn) from ``expr(lib, F, *inputs)``."""
    def torch_fn(*inputs):
        import torch
        return expr(torch, torch.nn.functional, *inputs)
    return (lambda *inputs: expr(mt, mtF, *inputs)), torch_fn


def _row(name, arity, expr, ref, domain="any"):
    ours, theirs = _both(expr)
    return (name, arity, ours, ref, theirs, domain)


_erf = np.vectorize(math.erf)


def _np_gelu(a):
    return 0.5 * a * (1 + _erf(a / math.sqrt(2)))


def _np_gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _np_layer_norm(a):
    m = a.mean(-1, keepdims=True)
    v = a.var(-1, keepdims=True)
    return (a - m) / np.sqrt(v + 1e-5)


def _np_conv1d(a, b):
    x, w = a.reshape(1, 1, -1), b.reshape(-1)[:2] if b.size >= 2 else b.reshape(-1)
    k = w.size
    L = x.shape[-1] - k + 1
    return np.array([[[sum(x[0, 0, i + j] * w[j] for j in range(k)) for i in range(L)]]])


def _conv1d(lib, F, a, b):
    w = b.reshape(-1)[:2] if b.numel() >= 2 else b.reshape(-1)
    x = a.reshape(1, 1, -1)
    if x.shape[-1] < w.shape[0]:
        x = lib.cat([x, x], dim=-1)
    return F.conv1d(x, w.reshape(1, 1, -1))


def _np_conv1d_safe(a, b):
    w = b.reshape(-1)[:2] if b.size >= 2 else b.reshape(-1)
    x = a.reshape(-1)
    if x.size < w.size:
        x = np.concatenate([x, x])
    return _np_conv1d(x, w)


def _twice(lib, a):
    """``a`` flattened and repeated, as a (1, n) row with n >= 2 (reflect needs n > pad)."""
    return lib.cat([a.reshape(-1), a.reshape(-1) * 0.5]).reshape(1, -1)


def _np_twice(a):
    return np.concatenate([a.ravel(), a.ravel() * 0.5]).reshape(1, -1)


def _np_bilinear_x2(a):
    # align_corners=True: every output sample is a convex combination of its two neighbours
    x = a.reshape(1, 1, 1, -1)
    n = x.shape[-1]
    src = np.arange(2 * n) * ((n - 1) / (2 * n - 1)) if n > 1 else np.zeros(2 * n)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    row = x[..., i0] * (1 - lam) + x[..., i1] * lam
    return np.concatenate([row, row], axis=2)


def _probs(a):
    return 1 / (1 + np.exp(-a))


OPS = [
    _row("F.sigmoid", 1, lambda lib, F, a: F.sigmoid(a), _sig),
    _row("F.tanh", 1, lambda lib, F, a: F.tanh(a), np.tanh),
    _row("F.gelu", 1, lambda lib, F, a: F.gelu(a), _np_gelu),
    _row("F.gelu_tanh", 1, lambda lib, F, a: F.gelu(a, approximate="tanh"), _np_gelu_tanh),
    _row("F.silu", 1, lambda lib, F, a: F.silu(a), lambda a: a * _sig(a)),
    _row("F.leaky_relu", 1, lambda lib, F, a: F.leaky_relu(a, 0.1),
         lambda a: np.where(a > 0, a, 0.1 * a), "apart"),
    _row("F.elu", 1, lambda lib, F, a: F.elu(a, 0.7),
         lambda a: np.where(a > 0, a, 0.7 * np.expm1(a)), "apart"),
    _row("F.softplus", 1, lambda lib, F, a: F.softplus(a * 3, beta=2, threshold=4),
         lambda a: np.where(6 * a > 4, 3 * a, np.log1p(np.exp(6 * a)) / 2)),
    _row("F.hardtanh", 1, lambda lib, F, a: F.hardtanh(a, -0.5, 0.5),
         lambda a: np.clip(a, -0.5, 0.5), "apart"),
    _row("F.relu6", 1, lambda lib, F, a: F.relu6(a * 8), lambda a: np.clip(a * 8, 0, 6),
         "apart"),
    _row("F.layer_norm", 1, lambda lib, F, a: F.layer_norm(_twice(lib, a), (2 * a.numel(),)),
         lambda a: _np_layer_norm(_np_twice(a))),
    _row("F.layer_norm_affine", 2,
         lambda lib, F, a, b: F.layer_norm(_twice(lib, a), (2 * a.numel(),),
                                           _twice(lib, b).reshape(-1),
                                           _twice(lib, b).reshape(-1) ** 2),
         lambda a, b: _np_layer_norm(_np_twice(a)) * _np_twice(b) + _np_twice(b) ** 2),
    _row("F.normalize", 1, lambda lib, F, a: F.normalize(a, dim=-1),
         lambda a: a / np.maximum(np.sqrt((a * a).sum(-1, keepdims=True)), 1e-12)),
    _row("F.normalize_p1", 1, lambda lib, F, a: F.normalize(a, p=1, dim=0),
         lambda a: a / np.maximum(np.abs(a).sum(0, keepdims=True), 1e-12), "apart"),
    _row("F.pad_constant", 1, lambda lib, F, a: F.pad(a, (1, 2), value=0.5),
         lambda a: np.pad(a, [(0, 0)] * (a.ndim - 1) + [(1, 2)], constant_values=0.5)),
    _row("F.pad_crop", 1, lambda lib, F, a: F.pad(lib.cat([a, a], -1), (-1, 0)),
         lambda a: np.concatenate([a, a], -1)[..., 1:]),
    _row("F.pad_reflect", 1, lambda lib, F, a: F.pad(_twice(lib, a), (1, 1), mode="reflect"),
         lambda a: np.pad(_np_twice(a), [(0, 0), (1, 1)], mode="reflect")),
    _row("F.pad_replicate", 1,
         lambda lib, F, a: F.pad(a.reshape(1, 1, -1), (2, 1), mode="replicate"),
         lambda a: np.pad(a.reshape(1, 1, -1), [(0, 0), (0, 0), (2, 1)], mode="edge")),
    _row("F.interpolate_nearest", 1,
         lambda lib, F, a: F.interpolate(a.reshape(1, 1, 1, -1), scale_factor=2),
         lambda a: np.repeat(np.repeat(a.reshape(1, 1, 1, -1), 2, -1), 2, -2)),
    _row("F.interpolate_bilinear", 1,
         lambda lib, F, a: F.interpolate(a.reshape(1, 1, 1, -1), scale_factor=2,
                                         mode="bilinear", align_corners=True),
         _np_bilinear_x2),
    _row("F.conv1d", 2, _conv1d, _np_conv1d_safe),
    _row("F.max_pool1d", 1, lambda lib, F, a: F.max_pool1d(_twice(lib, a).unsqueeze(0), 2),
         lambda a: _np_twice(a)[None, :, :(_np_twice(a).shape[-1] // 2) * 2]
         .reshape(1, 1, -1, 2).max(-1), "apart"),
    _row("F.avg_pool1d", 1, lambda lib, F, a: F.avg_pool1d(_twice(lib, a).unsqueeze(0), 2),
         lambda a: _np_twice(a)[None, :, :(_np_twice(a).shape[-1] // 2) * 2]
         .reshape(1, 1, -1, 2).mean(-1)),
    _row("F.adaptive_avg_pool1d", 1,
         lambda lib, F, a: F.adaptive_avg_pool1d(a.reshape(1, 1, -1), 1),
         lambda a: a.reshape(1, 1, -1).mean(-1, keepdims=True)),
    _row("F.embedding", 1,
         lambda lib, F, a: F.embedding(lib.tensor([[0, 0], [0, 0]]), a.reshape(1, -1)),
         lambda a: a.reshape(1, -1)[np.zeros((2, 2), int)]),
    _row("F.l1_loss", 2, lambda lib, F, a, b: F.l1_loss(a, b), lambda a, b: np.abs(a - b).mean(),
         "apart"),
    _row("F.l1_loss_sum", 2, lambda lib, F, a, b: F.l1_loss(a, b, reduction="sum"),
         lambda a, b: np.abs(a - b).sum(), "apart"),
    _row("F.smooth_l1_loss", 2, lambda lib, F, a, b: F.smooth_l1_loss(a, b, beta=0.5),
         lambda a, b: np.where(np.abs(a - b) < 0.5, (a - b) ** 2, np.abs(a - b) - 0.25).mean(),
         "apart"),
    _row("F.huber_loss", 2, lambda lib, F, a, b: F.huber_loss(a, b, reduction="none",
                                                             delta=0.5),
         lambda a, b: np.where(np.abs(a - b) < 0.5, 0.5 * (a - b) ** 2,
                               0.5 * (np.abs(a - b) - 0.25)), "apart"),
    _row("F.binary_cross_entropy", 2,
         lambda lib, F, a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid()),
         lambda a, b: -(_probs(b) * np.log(_probs(a))
                        + (1 - _probs(b)) * np.log(1 - _probs(a))).mean()),
    _row("F.binary_cross_entropy_weight", 2,
         lambda lib, F, a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid(),
                                                     weight=lib.full_like(a, 0.7),
                                                     reduction="sum"),
         lambda a, b: (-0.7 * (_probs(b) * np.log(_probs(a))
                                   + (1 - _probs(b)) * np.log(1 - _probs(a)))).sum()),
    _row("F.bce_with_logits", 2,
         lambda lib, F, a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid()),
         lambda a, b: (-(_probs(b) * np.log(_probs(a))
                         + (1 - _probs(b)) * np.log(1 - _probs(a)))).mean()),
    _row("F.bce_with_logits_pos_weight", 2,
         lambda lib, F, a, b: F.binary_cross_entropy_with_logits(
             a, b.sigmoid(), weight=lib.full_like(a, 0.7),
             pos_weight=lib.full(a.shape[-1:], 1.5), reduction="none"),
         lambda a, b: -0.7 * (1.5 * _probs(b) * np.log(_probs(a))
                                    + (1 - _probs(b)) * np.log(1 - _probs(a)))),
    _row("F.softmax_dim0", 1, lambda lib, F, a: F.softmax(a, dim=0),
         lambda a: np.exp(a) / np.exp(a).sum(0, keepdims=True)),
    _row("F.log_softmax_dim-1", 1, lambda lib, F, a: F.log_softmax(a, dim=-1),
         lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True))),
]

# core-nn: transposed convolution, the extra normalisations and activations


def _np_conv_transpose1d(a, b):
    """stride 1, no padding: every input element spreads its kernel: a full convolution."""
    w = b.reshape(-1)[:2] if b.size >= 2 else b.reshape(-1)
    return np.convolve(a.reshape(-1), w).reshape(1, 1, 1, -1)


def _conv_transpose(lib, F, a, b):
    w = b.reshape(-1)[:2] if b.numel() >= 2 else b.reshape(-1)
    return F.conv_transpose2d(a.reshape(1, 1, 1, -1), w.reshape(1, 1, 1, -1))


def _np_rms(a):
    return a / np.sqrt((a * a).mean(-1, keepdims=True) + 1e-6)


def _np_selu(a):
    return 1.0507009873554804934 * np.where(a > 0, a, 1.6732632423543772848 * np.expm1(a))


OPS += [
    _row("F.conv_transpose2d", 2, _conv_transpose, _np_conv_transpose1d),
    _row("F.group_norm", 1, lambda lib, F, a: F.group_norm(_twice(lib, a).reshape(1, 2, -1), 1),
         lambda a: _np_layer_norm(_np_twice(a)).reshape(1, 2, -1)),
    _row("F.instance_norm", 1, lambda lib, F, a: F.instance_norm(_twice(lib, a).unsqueeze(0)),
         lambda a: _np_layer_norm(_np_twice(a))[None]),
    _row("F.rms_norm", 1, lambda lib, F, a: F.rms_norm(a, (a.shape[-1],), eps=1e-6), _np_rms),
    _row("F.selu", 1, lambda lib, F, a: F.selu(a), _np_selu, "apart"),
    _row("F.celu", 1, lambda lib, F, a: F.celu(a, 0.5),
         lambda a: np.where(a > 0, a, 0.5 * np.expm1(a / 0.5)), "apart"),
    _row("F.hardswish", 1, lambda lib, F, a: F.hardswish(a * 4),
         lambda a: 4 * a * np.clip(4 * a + 3, 0, 6) / 6, "apart"),
    _row("F.hardsigmoid", 1, lambda lib, F, a: F.hardsigmoid(a * 4),
         lambda a: np.clip(4 * a + 3, 0, 6) / 6, "apart"),
    _row("F.mish", 1, lambda lib, F, a: F.mish(a), lambda a: a * np.tanh(np.log1p(np.exp(a)))),
    _row("F.logsigmoid", 1, lambda lib, F, a: F.logsigmoid(a), lambda a: np.log(_sig(a))),
    _row("F.softsign", 1, lambda lib, F, a: F.softsign(a), lambda a: a / (1 + np.abs(a)),
         "apart"),
    _row("F.softmin", 1, lambda lib, F, a: F.softmin(a, dim=-1),
         lambda a: np.exp(-a) / np.exp(-a).sum(-1, keepdims=True)),
    _row("F.softshrink", 1, lambda lib, F, a: F.softshrink(a, 0.3),
         lambda a: np.where(a > 0.3, a - 0.3, np.where(a < -0.3, a + 0.3, 0)), "apart"),
    _row("F.hardshrink", 1, lambda lib, F, a: F.hardshrink(a, 0.3),
         lambda a: np.where(np.abs(a) > 0.3, a, 0), "apart"),
    _row("F.tanhshrink", 1, lambda lib, F, a: F.tanhshrink(a), lambda a: a - np.tanh(a)),
    _row("F.threshold", 1, lambda lib, F, a: F.threshold(a, 0.1, -2.0),
         lambda a: np.where(a > 0.1, a, -2.0), "apart"),
    _row("F.glu", 1, lambda lib, F, a: F.glu(_twice(lib, a)),
         lambda a: a.reshape(1, -1) * _sig(0.5 * a.reshape(1, -1))),
    _row("F.prelu", 2, lambda lib, F, a, b: F.prelu(a, b.reshape(-1)[:1]),
         lambda a, b: np.where(a > 0, a, b.reshape(-1)[0] * a), "apart"),
]


def _np_unfold_pairs(a):
    x = _np_twice(a).reshape(-1)
    return np.stack([x[:-1], x[1:]])[None]      # (1, 2, L - 1): each window's two taps


OPS += [
    _row("F.unfold", 1, lambda lib, F, a: F.unfold(_twice(lib, a).reshape(1, 1, 1, -1), (1, 2)),
         _np_unfold_pairs),
    _row("F.fold", 1, lambda lib, F, a: F.fold(_twice(lib, a).reshape(1, 2, -1),
                                               (1, 2 * a.numel() // 2 + 1), (1, 2)),
         lambda a: np.concatenate([_np_twice(a).reshape(2, -1)[0], [0]])[None, None, None]
         + np.concatenate([[0], _np_twice(a).reshape(2, -1)[1]])[None, None, None]),
    _row("F.adaptive_max_pool1d", 1,
         lambda lib, F, a: F.adaptive_max_pool1d(a.reshape(1, 1, -1), 1),
         lambda a: a.reshape(1, 1, -1).max(-1, keepdims=True), "apart"),
]
