"""Transposed 2-d convolution: the input gradient of a convolution, run forwards.

``conv_transpose2d(x, w)`` with ``w`` of shape (C_in, C_out / groups, KH, KW) is exactly what
``ops.conv`` computes as the input gradient of ``conv2d(y, w)`` for a ``y`` of the transposed
output's shape: ``cols = W.T @ x`` per group and ``col2im``. Its backward is that convolution
again: the input gradient is ``conv2d(grad_out, w)`` (the convolution's own forward, im2col or
Winograd as it chooses) and the weight gradient is the convolution's weight gradient with the
roles of input and output gradient swapped. So every path runs on ``ops.conv``'s kernels, batch
slices and scratch buffers; nothing here loops over elements.

``output_padding`` below the stride only adds rows and columns that ``col2im``'s geometry already
covers (the convolution of the larger output has the same number of windows); the functional
layer reduces the rarer ``stride <= output_padding < dilation`` case to that one.

The convolution's own gradients are ops here too, for ``create_graph=True`` (gradient penalties
through a conv critic, MAML over a CNN): ``ConvInputGrad`` is this transposed convolution under
torch's double-backward name and ``ConvWeightGrad`` the weight gradient of ``x`` and the output
gradient. Each is bilinear, so its gradients are the other two ops and ``Convolution`` again
(torch's ``_convolution_double_backward``), recorded to any order; ordinary training never
builds them.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import conv as K
from . import conv as C
from .adjoint import tie_to_inputs

__all__ = ["ConvTranspose", "ConvInputGrad", "ConvWeightGrad", "conv_transpose2d_output_size"]


def conv_transpose2d_output_size(size, kernel, stride, padding, output_padding, dilation):
    """PyTorch's output length of a transposed convolution along one axis."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class _Geometry:
    """The ``ctx``-like record ``ops.conv``'s helpers read (stride, padding, dilation, groups)."""

    __slots__ = ("stride", "padding", "dilation", "groups")

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups


def _channel_major(x):
    """(N, C, H, W) -> (C, N*H*W), the layout of a convolution's output gradient."""
    N, Cx = x.shape[:2]
    P = x.shape[2] * x.shape[3]
    out = np.empty((Cx, N, P), x.dtype)
    empty1, empty3 = np.empty(0, x.dtype), np.empty((0, 0, 0), x.dtype)
    K.swap01(out, np.ascontiguousarray(x).reshape(N, Cx, P), empty1, empty3, False)
    return out.reshape(Cx, N * P)


class ConvTranspose(Function):
    """``conv_transpose2d(x, w, b)``; ``out_hw`` is the output (H, W), output padding included."""

    node_name = "ConvolutionBackward0"   # torch records the transposed conv under this name too

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups, out_hw):
        x = np.ascontiguousarray(x)
        w = np.ascontiguousarray(w)
        geo = _Geometry(stride, padding, dilation, groups)
        ctx.geo, ctx.x_shape = geo, x.shape
        ctx.save_for_backward(x, w)
        N = x.shape[0]
        C_out = w.shape[1] * groups
        like = np.empty((N, C_out) + tuple(out_hw), x.dtype)  # only its shape and dtype are read
        out = C._grad_input(geo, like, w, _channel_major(x))
        if b is not None:
            out += b.astype(out.dtype, copy=False).reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g = np.ascontiguousarray(grad_out)
        geo = ctx.geo
        grad_b = g.sum(axis=(0, 2, 3)) if need_b else None
        grad_w = C._grad_weight(geo, g, w, _channel_major(x)) if need_w else None
        grad_x = None
        if need_x:
            plan = C._Plan(g.shape, w, geo.stride, geo.padding, geo.dilation, geo.groups)
            grad_x = C._run(plan, g, plan.transform(), None)
            if grad_x.shape != ctx.x_shape:  # (cannot differ: the windows are the input's)
                raise RuntimeError(f"conv_transpose2d backward: input gradient of shape "
                                   f"{grad_x.shape}, expected {ctx.x_shape}")
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad_out):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        geo = _static(ctx.geo)
        grad_b = grad_out.sum(dim=(0, 2, 3)) if need_b else None
        # roles swapped: x is the output gradient of the convolution this one is the adjoint of
        grad_w = ConvWeightGrad.apply(grad_out, ctx.saved_input(0, x), w_shape=w.shape,
                                      **geo) if need_w else None
        grad_x = ConvGrad.apply(grad_out, ctx.saved_input(1, w), None,
                                     **geo) if need_x else None
        if ctx._fn is not ConvTranspose:  # (a convolution's input gradient: torch composes
            return grad_x, grad_w, grad_b    # its double backward, no fused node)
        return tie_to_inputs(ctx, (grad_x, grad_w, grad_b), inputs=(0, 1))


class ConvInputGrad(ConvTranspose):
    """``apply(grad_out, w, None, ..., out_hw=)``: a convolution's input gradient, recorded."""

    node_name = "ConvolutionBackwardBackward0"


class ConvGrad(C.Convolution):
    """A convolution inside a double backward (a transposed convolution's input gradient, or
    the weight gradient's own), recorded: torch composes those, so its gradients require grad
    by what they depend on, not by a fused node's inputs."""

    node_name = "ConvolutionBackwardBackward0"


def _static(geo):
    return dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation, groups=geo.groups)


def _conv(x, w, geo):
    """The plain convolution of arrays (the im2col or Winograd path it picks)."""
    plan = C._Plan(x.shape, w, geo.stride, geo.padding, geo.dilation, geo.groups)
    return C._run(plan, x, plan.transform(), None)


class ConvWeightGrad(Function):
    """``apply(x, grad_out, w_shape=, stride=, padding=, dilation=, groups=)``: the weight
    gradient of the convolution of ``x`` whose output gradient is ``grad_out``."""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, grad_out, *, w_shape, stride, padding, dilation, groups):
        x, g = np.ascontiguousarray(x), np.ascontiguousarray(grad_out)
        ctx.geo = _Geometry(stride, padding, dilation, groups)
        ctx.save_for_backward(x, g)
        return C._grad_weight(ctx.geo, x, np.empty(w_shape, x.dtype), _channel_major(g))

    @staticmethod
    def backward(ctx, gw):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        gw = np.ascontiguousarray(gw)
        grad_x = C._grad_input(ctx.geo, x, gw, _channel_major(g)) if need_x else None
        grad_g = _conv(x, gw, ctx.geo) if need_g else None
        return grad_x, grad_g

    @staticmethod
    def backward_graph(ctx, gw):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        geo = _static(ctx.geo)
        grad_x = ConvInputGrad.apply(ctx.saved_input(1, g), gw, None, out_hw=x.shape[2:],
                                     **geo) if need_x else None
        grad_g = ConvGrad.apply(ctx.saved_input(0, x), gw, None, **geo) if need_g else None
        return grad_x, grad_g
