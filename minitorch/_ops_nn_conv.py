"""``conv_transpose2d`` / ``conv_transpose1d`` (``F.`` entries and ``mt.`` functions, as torch
has them), each declared once (``_registry``): the argument checks with torch's messages, then
one ``ops.conv_transpose.ConvTranspose``. A 1-d input is a height-1 image, as for conv1d.
"""
import numbers

from ._ops_nn import pad
from ._registry import declare
from .ops import conv_transpose as CT

__all__ = ["conv_transpose2d", "conv_transpose1d"]


def _ntuple(value, n, name, fn):
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    values = tuple(value)
    if len(values) == 1 and n > 1:
        values = values * n
    if len(values) != n or not all(isinstance(v, numbers.Integral) for v in values):
        raise RuntimeError(f"{fn}: expected {name} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{name}={list(values)}")
    return tuple(int(v) for v in values)


def _check(fn, x, weight, bias, stride, padding, output_padding, groups, dilation):
    """The checks torch makes, in its order and words (the culprit and its shape named)."""
    if min(stride) < 1:
        raise RuntimeError(f"{fn}: non-positive stride is not supported")
    if min(padding) < 0:
        raise RuntimeError(f"{fn}: negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError(f"{fn}: negative output_padding is not supported")
    if min(dilation) < 1:
        raise RuntimeError(f"{fn}: dilation should be greater than zero")
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise RuntimeError(f"{fn}: non-positive groups is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{fn}: output padding must be smaller than either stride or "
                           f"dilation, but got output_padding {output_padding}, stride "
                           f"{stride}, dilation {dilation}")
    w_shape = list(weight.shape)
    if weight.shape[0] < groups:
        raise RuntimeError(f"{fn}: Given groups={groups}, expected weight to be at least "
                           f"{groups} at dimension 0, but got weight of size {w_shape} instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{fn}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {w_shape} instead")
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"{fn}: Given transposed=1, weight of size {w_shape}, expected "
                           f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                           f"{x.shape[1]} channels instead")
    C_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (C_out,):
        raise RuntimeError(f"{fn}: Given transposed=1, weight of size {w_shape}, expected "
                           f"bias to be 1-dimensional with {C_out} elements, but got bias of "
                           f"size {list(bias.shape)} instead")
    for t in (weight, bias):
        if t is not None and t._data.dtype != x._data.dtype:
            raise RuntimeError(f"{fn}: expected scalar type {x.dtype} but found {t.dtype} "
                               f"(input and weight/bias must share one dtype)")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{fn}: not implemented for dtype {x.dtype}")
    if weight.numel() == 0:
        raise RuntimeError(f"{fn}: non-empty 2D or 4D weight tensor expected, but got: "
                           f"{w_shape}")
    if x.numel() == 0 and x.shape[0] and x.shape[1]:
        raise RuntimeError(f"{fn}: Only zero batch or zero channel inputs are supported, but "
                           f"got input shape: {list(x.shape)}")


def _check_output_size(fn, x, out_hw):
    """torch's rule: every output length at least 1, or at least 0 for an empty batch (whose
    result is an empty tensor of the output's shape)."""
    if min(out_hw) < (0 if x.shape[0] == 0 else 1):
        sizes = " x ".join(str(s) for s in x.shape[2:])
        raise RuntimeError(f"{fn}: Given input size per channel: ({sizes}). Calculated output "
                           f"size per channel: ({' x '.join(str(s) for s in out_hw)}). Output "
                           f"size is too small")


@declare(method=False, function=True, functional=True, out=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-d convolution of (N, C_in, H, W) (or unbatched (C_in, H, W)) with weight
    (C_in, C_out / groups, KH, KW): output (N, C_out, (H - 1) * stride - 2 * padding +
    dilation * (KH - 1) + output_padding + 1, ...)."""
    fn = "conv_transpose2d"
    if input.ndim not in (3, 4) or weight.ndim != 4:
        raise RuntimeError(f"{fn}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input and a "
                           f"4-d weight, got input of shape {list(input.shape)} and weight of "
                           f"shape {list(weight.shape)}")
    return _conv_transpose(fn, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def _conv_transpose(fn, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """conv_transpose2d once its ranks are checked; ``fn`` names the public op in errors."""
    squeeze = input.ndim == 3
    x = input.unsqueeze(0) if squeeze else input
    stride, padding, output_padding, dilation = (
        _ntuple(v, 2, name, fn) for v, name in ((stride, "stride"), (padding, "padding"),
                                                (output_padding, "output_padding"),
                                                (dilation, "dilation")))
    _check(fn, x, weight, bias, stride, padding, output_padding, groups, dilation)
    out_hw = tuple(CT.conv_transpose2d_output_size(x.shape[2 + i], weight.shape[2 + i],
                                                   stride[i], padding[i], output_padding[i],
                                                   dilation[i]) for i in range(2))
    _check_output_size(fn, x, out_hw)
    # output padding at or above the stride (allowed below the dilation) adds rows that no
    # window of the input reaches: pad the input with zero rows until the windows cover the
    # output, then crop (the zero rows contribute nothing, and get a gradient that is dropped)
    extra = tuple(-(-op // s) if op >= s else 0 for op, s in zip(output_padding, stride))
    if any(extra):
        x = pad(x, (0, extra[1], 0, extra[0]))
    full_hw = tuple(CT.conv_transpose2d_output_size(x.shape[2 + i], weight.shape[2 + i],
                                                    stride[i], padding[i],
                                                    output_padding[i] if not extra[i] else 0,
                                                    dilation[i]) for i in range(2))
    out = CT.ConvTranspose.apply(x, weight, bias, stride=stride, padding=padding,
                                 dilation=dilation, groups=int(groups), out_hw=full_hw)
    if any(extra):
        out = out[:, :, :out_hw[0], :out_hw[1]]
    return out.squeeze(0) if squeeze else out


@declare(method=False, function=True, functional=True, out=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-d convolution of (N, C_in, L) (or (C_in, L)) with weight (C_in, C_out /
    groups, K): the 2-d one on a height-1 image."""
    fn = "conv_transpose1d"
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise RuntimeError(f"{fn}: expected a 2-d (C, L) or 3-d (N, C, L) input and a 3-d "
                           f"weight, got input of shape {list(input.shape)} and weight of shape "
                           f"{list(weight.shape)}")
    one = (lambda v, name: (0 if name in ("padding", "output_padding") else 1,
                            _ntuple(v, 1, name, fn)[0]))
    out = _conv_transpose(fn, input.unsqueeze(-2), weight.unsqueeze(2), bias,
                          one(stride, "stride"), one(padding, "padding"),
                          one(output_padding, "output_padding"), groups,
                          one(dilation, "dilation"))
    if out.grad_fn is None:   # torch's result is never a view (its node: ConvolutionBackward0)
        return input._new(out._data[..., 0, :])
    return out.squeeze(-2)
