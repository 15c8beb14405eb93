"""``nn.functional`` layers that move pixels around: pixel_shuffle, pixel_unshuffle, unfold,
fold, adaptive_max_pool1d/2d, bilinear; each declared once (``_registry``), with torch's checks.

pixel_(un)shuffle and bilinear are compositions of views and one matmul; unfold/fold and the
adaptive max-pool are the Functions of ``ops.fold``.
"""
import numbers

import numpy as np

from ._registry import declare
from .ops import fold as FO

__all__ = ["pixel_shuffle", "pixel_unshuffle", "unfold", "fold", "adaptive_max_pool2d",
           "adaptive_max_pool1d", "bilinear"]

_F = dict(method=False, function=False, functional=True, out=False)


def _fresh(out, input):
    """``out``, copied when the views above left it sharing ``input``'s storage (r = 1, or
    size-1 dims): torch's pixel_(un)shuffle always returns a new tensor, not a view."""
    return out.clone() if np.may_share_memory(out._data, input._data) else out


@declare(method=False, function=True, functional=True, out=False)
def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, C, H, W = input.shape
    if C % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={C} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(tuple(lead) + (C // (r * r), r, r, H, W))
    order = tuple(range(n)) + tuple(n + i for i in (0, 3, 1, 4, 2))
    return _fresh(x.permute(order).reshape(tuple(lead) + (C // (r * r), H * r, W * r)), input)


@declare(method=False, function=True, functional=True, out=False)
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, C, H, W = input.shape
    for name, size, dim in (("height", H, -2), ("width", W, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({dim})={size} is not "
                               f"divisible by {r}")
    n = len(lead)
    x = input.reshape(tuple(lead) + (C, H // r, r, W // r, r))
    order = tuple(range(n)) + tuple(n + i for i in (0, 2, 4, 1, 3))
    return _fresh(x.permute(order).reshape(tuple(lead) + (C * r * r, H // r, W // r)), input)


def _pair(value, name, fn, minimum):
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) for v in pair):
        raise RuntimeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        what = "greater than zero" if minimum else "non-negative"
        raise RuntimeError(f"{fn}: {name} should be {what}, but got {name}: {value!r}")
    return int(pair[0]), int(pair[1])


def _geometry(fn, kernel_size, dilation, padding, stride):
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    (DH, DW), (PH, PW), (SH, SW) = (_pair(dilation, "dilation", fn, 1),
                                    _pair(padding, "padding", fn, 0),
                                    _pair(stride, "stride", fn, 1))
    return kernel, (SH, SW, PH, PW, DH, DW)


def _blocks(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@declare(**_F)
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of an (N, C, H, W) (or (C, H, W)) input: (N, C * KH * KW, L)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    kernel, geo = _geometry("unfold", kernel_size, dilation, padding, stride)
    squeeze = input.ndim == 3
    x = input.unsqueeze(0) if squeeze else input
    SH, SW, PH, PW, DH, DW = geo
    OH, OW = _blocks(x.shape[2], kernel[0], SH, PH, DH), _blocks(x.shape[3], kernel[1], SW, PW, DW)
    if OH < 1 or OW < 1:
        raise RuntimeError(f"unfold: Given input with spatial size {tuple(x.shape[2:])}, "
                           f"kernel_size={kernel}, dilation={(DH, DW)}, padding={(PH, PW)}, "
                           f"calculated shape of the array of sliding blocks as {(OH, OW)}, "
                           f"but its components must be at least one.")
    out = FO.Unfold.apply(x, kernel=kernel, geometry=geo)
    return out.squeeze(0) if squeeze else out


@declare(**_F)
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The sum of sliding blocks (N, C * KH * KW, L) (or 2-d) into (N, C, *output_size)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors "
                           f"are supported (got {input.ndim}D)")
    size = _pair(output_size, "output_size", "fold", 1)
    kernel, geo = _geometry("fold", kernel_size, dilation, padding, stride)
    squeeze = input.ndim == 2
    x = input.unsqueeze(0) if squeeze else input
    KK = kernel[0] * kernel[1]
    if x.shape[1] % KK:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={kernel}.")
    SH, SW, PH, PW, DH, DW = geo
    OH, OW = _blocks(size[0], kernel[0], SH, PH, DH), _blocks(size[1], kernel[1], SW, PW, DW)
    if OH * OW != x.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{(DH, DW)}, padding={(PH, PW)}, stride={(SH, SW)}, expected size of "
                           f"input's dimension 2 to match the calculated number of sliding "
                           f"blocks {OH} * {OW} = {OH * OW}, but got input.size(2)={x.shape[2]}.")
    out = FO.Fold.apply(x, out_shape=(x.shape[0], x.shape[1] // KK) + size, kernel=kernel,
                        geometry=geo)
    return out.squeeze(0) if squeeze else out


def _adaptive_size(output_size, input, n):
    size = (output_size,) * n if isinstance(output_size, numbers.Integral) else \
        tuple(output_size)
    if len(size) != n:
        raise RuntimeError(f"adaptive_max_pool{n}d: output_size must be {n} ints, got "
                           f"{output_size!r}")
    return tuple(int(input.shape[input.ndim - n + i]) if s is None else int(s)
                 for i, s in enumerate(size))


@declare(**_F)
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over torch's adaptive windows to ``output_size`` (an int, a pair, None keeps a
    size); with ``return_indices`` also the flat ``h*W + w`` argmax."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                           f"{list(input.shape)}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"adaptive_max_pool2d" not implemented for {input.dtype}')
    size = _adaptive_size(output_size, input, 2)
    if min(size) < 1:
        raise RuntimeError(f"adaptive_max_pool2d(): output_size must be positive, got {size}")
    squeeze = input.ndim == 3
    x = input.unsqueeze(0) if squeeze else input
    out, idx = FO.AdaptiveMaxPool2d.apply(x, output_size=size)
    if squeeze:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


@declare(**_F)
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The 2-d pool on a height-1 image; indices are positions along L."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: "
                           f"{list(input.shape)}")
    (size,) = _adaptive_size(output_size, input, 1)
    out, idx = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices=True)
    out, idx = out.squeeze(-2), idx.squeeze(-2)
    return (out, idx) if return_indices else out


@declare(method=False, function=True, functional=True, out=False)
def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1 @ weight[k] @ x2 + bias[k]`` over the last dims (leading dims must agree)."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got "
                           f"{weight.ndim}")
    K, I, J = weight.shape
    if input1.shape[-1] != I:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {I}")
    if input2.shape[-1] != J:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {J}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if bias is not None and tuple(bias.shape) != (K,):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{list(bias.shape)} but expected [{K}]")
    lead = tuple(input1.shape[:-1])
    # one GEMM: x1 (M, I) @ W viewed (I, K*J), then the product with x2 over J
    left = input1.reshape(-1, I) @ weight.permute(1, 0, 2).reshape(I, K * J)
    out = (left.reshape(-1, K, J) * input2.reshape(-1, 1, J)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (K,))
