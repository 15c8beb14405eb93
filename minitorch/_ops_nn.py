"""``nn.functional`` entries for normalisation, lookup and resampling: layer_norm, normalize,
one_hot, embedding, pad, interpolate. Each is declared once (``_registry``: the ``F.`` entry, and
``mt.layer_norm`` as torch has it); each checks its arguments (errors name the op and the
culprit) and calls one Function from ``minitorch.ops``.
"""
import numbers

import numpy as np

from ._registry import declare
from .ops import embedding as E
from .ops import layer_norm as LN
from .ops import resample as R

__all__ = ["layer_norm", "normalize", "one_hot", "embedding", "pad", "interpolate"]


def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)


@declare(method=False, function=True, functional=True, out=False)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims (biased variance), then scale and
    shift by ``weight``/``bias`` of that shape."""
    shape = _shape_tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape):]) != shape \
            or len(shape) > input.ndim:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(shape)}, expected input "
                           f"with shape [*, {', '.join(map(str, shape))}], but got input of "
                           f"size {list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm: expected {name} of shape {list(shape)}, got "
                               f"{list(t.shape)}")
        if t is not None and t._data.dtype != input._data.dtype:
            raise RuntimeError(f"layer_norm: mixed dtypes: {name} is {t.dtype}, input is "
                               f"{input.dtype} (all inputs must share one dtype)")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"layer_norm: expected a floating-point input, got {input.dtype}")
    return LN.LayerNorm.apply(input, weight, bias, D=int(np.prod(shape)), eps=float(eps),
                              k=len(shape))


@declare(method=False, function=False, functional=True, out=True)
def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``x / max(||x||_p, eps)`` along ``dim`` (``out=`` from the registry, as torch's)."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"normalize: expected a floating-point input, got {input.dtype}")
    nd = max(input.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"normalize: dim {dim} is out of range for a {input.ndim}-d input")
    if p <= 0:
        raise ValueError(f"normalize: p must be > 0, got {p!r}")
    return E.Normalize.apply(input, p=float(p), dim=dim % nd if input.ndim else None,
                             eps=float(eps))


@declare(method=False, function=False, functional=True, out=False)
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding along a new last dim of ``num_classes`` (-1: max value + 1)."""
    idx = tensor._data
    if idx.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type int64, got "
                           f"{tensor.dtype}")
    if idx.size and idx.min() < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if not idx.size:
            raise RuntimeError("one_hot: can not infer total number of classes from empty "
                               "tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}).")
    out = np.zeros(idx.shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return tensor._new(out)


@declare(method=False, function=False, functional=True, out=False)
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the int64 indices ``input`` (any shape); no gradient reaches the
    ``padding_idx`` row. ``max_norm`` renormalises the looked-up rows of ``weight`` in place."""
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected indices of dtype int64 or int32, got "
                           f"{input.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                           f"got shape {tuple(weight.shape)}")
    V = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        bad = idx[(idx < 0) | (idx >= V)].flat[0]
        raise IndexError(f"embedding: index {int(bad)} out of range for {V} embeddings")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({V})")
        padding_idx = padding_idx % V
    if sparse:
        raise ValueError("embedding: sparse gradients are not supported")
    if max_norm is not None:
        _renorm_rows(weight, idx, float(max_norm), float(norm_type))
    return E.Embedding.apply(weight, idx.astype(np.int64, copy=False), padding_idx=padding_idx,
                             scale_grad_by_freq=bool(scale_grad_by_freq))


def _renorm_rows(weight, idx, max_norm, norm_type):
    """PyTorch's ``embedding_renorm_``: rows used with a norm above ``max_norm`` scaled down to
    it, in place and outside autograd."""
    w = weight._data
    rows = np.unique(idx)
    norms = (np.abs(w[rows]) ** norm_type).sum(1) ** (1.0 / norm_type)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
        weight._bump_version()


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


@declare(method=False, function=False, functional=True, out=False)
def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims; ``pad`` = (left, right, top, bottom, ...), the last
    dim first, as PyTorch. Negative constant padding crops."""
    pad = tuple(int(p) for p in pad)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}: use one of "
                                  f"{', '.join(_PAD_MODES)}")
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} is more than two times the input "
                           f"dimension {input.ndim}")
    if mode != "constant":
        if input._data.dtype == np.bool_ and mode != "circular":
            raise NotImplementedError(f"pad: mode {mode!r} is not implemented for bool input")
        if value is not None and value != 0:
            raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
        if k > 3 or input.ndim not in (k + 1, k + 2):
            raise NotImplementedError(f"pad: padding size {len(pad)} is not supported for "
                                      f"{input.ndim}-D input in mode {mode!r} (a pair per "
                                      f"padded dim, with 1 or 2 leading dims)")
    maps = []
    for i in range(k):
        axis = input.ndim - 1 - i
        n, before, after = input.shape[axis], pad[2 * i], pad[2 * i + 1]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"pad: reflect padding ({before}, {after}) must be less than "
                               f"the input size {n} at dim {axis} of input of shape "
                               f"{tuple(input.shape)}")
        if mode == "circular" and max(before, after) > n:
            raise RuntimeError(f"pad: circular padding ({before}, {after}) would wrap around "
                               f"more than once at dim {axis} of size {n}")
        if mode != "constant" and min(before, after) < 0:
            raise RuntimeError(f"pad: negative padding {pad} is only supported in 'constant' "
                               "mode")
        if n + before + after < 0 or (mode != "constant" and n == 0):
            raise RuntimeError(f"pad: padding {pad} gives a negative size at dim {axis} of "
                               f"input of shape {tuple(input.shape)}")
        if before or after:
            maps.append((axis, R.pad_index(n, before, after, mode)))
    if not maps:
        return input.clone()
    # torch's reflection/replication pads save their input (its constant and circular ones do
    # not): a later in-place change to it fails their backward
    return R.Pad.apply(input, maps=tuple(maps), value=0 if value is None else value,
                       saves_input=mode in ("reflect", "replicate"), mode=mode, dims=k)


_INTERP = {"nearest": 0, "linear": 1, "bilinear": 2}


@declare(method=False, function=False, functional=True, out=False)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims: 'nearest' (3-D or 4-D input), 'linear' (3-D), 'bilinear' (4-D),
    to ``size`` or by ``scale_factor``; ``align_corners`` as PyTorch's."""
    if mode not in _INTERP:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported (nearest, "
                                  "linear, bilinear)")
    spatial = input.ndim - 2
    if spatial not in (1, 2) or (_INTERP[mode] and _INTERP[mode] != spatial):
        need = "3-D or 4-D" if mode == "nearest" else f"{_INTERP[mode] + 2}-D"
        raise NotImplementedError(f"interpolate: got {input.ndim}-D input, but mode {mode!r} "
                                  f"needs {need} input")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor should be defined")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        out = _per_axis(size, spatial, "size")
        scales = (None,) * spatial
    else:
        scales = tuple(float(s) for s in _per_axis(scale_factor, spatial, "scale_factor", float))
        out = tuple(int(np.floor(n * s)) for n, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * spatial
    if min(out) < 1:
        raise ValueError(f"interpolate: output size {out} must be positive (input "
                         f"{tuple(input.shape)})")
    dt = input._data.dtype
    if dt == np.uint8 and mode == "nearest":
        dt = np.dtype(np.float32)   # (nearest only gathers: an image's uint8 stays uint8)
    elif dt.kind != "f":
        # (torch's uint8 bilinear rounds in its own fixed point: not reproduced here)
        raise RuntimeError(f"interpolate: mode {mode!r} expects a floating-point input, got "
                           f"{input.dtype} (nearest also takes uint8)")
    taps = tuple(R.interpolation_taps(n, o, mode, bool(align_corners), s, dt)
                 for n, o, s in zip(in_sizes, out, scales))
    kind = f"Upsample{mode.capitalize()}{spatial}D"   # torch's node: UpsampleBilinear2DBackward0
    return R.Interpolate.apply(input, taps=taps, kind=kind)


def _per_axis(value, n, name, kind=int):
    values = (value,) * n if isinstance(value, numbers.Real) else tuple(value)
    if len(values) != n:
        raise ValueError(f"interpolate: {name} {value!r} must have {n} entries for "
                         f"{n} spatial dims")
    return tuple(kind(v) for v in values)
