"""``unfold`` (im2col) and ``fold`` (col2im) as Functions, each the other's backward, on
``kernels/conv.py``'s kernels; and ``adaptive_max_pool2d`` with torch's window bounds.

The conv kernels lay columns out as (C*KH*KW, N*L); torch's unfold is (N, C*KH*KW, L), so
each direction is one kernel call plus one ``swap01`` layout copy.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import conv as K
from .adjoint import LinearMap
from .pool_grad import pool_gradient

__all__ = ["Unfold", "Fold", "AdaptiveMaxPool2d", "adaptive_windows"]


def _swap01(a):
    """(A, B, P) -> (B, A, P), one parallel copy."""
    out = np.empty((a.shape[1], a.shape[0], a.shape[2]), a.dtype)
    K.swap01(out, np.ascontiguousarray(a), np.empty(0, a.dtype), np.empty((0, 0, 0), a.dtype),
             False)
    return out


def _unfold(x, kernel, geometry):
    N, C = x.shape[:2]
    (KH, KW), (SH, SW, PH, PW, DH, DW) = kernel, geometry
    OH = K.conv_output_size(x.shape[2], KH, SH, PH, DH)
    OW = K.conv_output_size(x.shape[3], KW, SW, PW, DW)
    cols = np.empty((C * KH * KW, N * OH * OW), x.dtype)
    K.im2col(cols, np.ascontiguousarray(x), KH, KW, SH, SW, PH, PW, DH, DW)
    return _swap01(cols.reshape(C * KH * KW, N, OH * OW))


def _fold(cols, out_shape, kernel, geometry):
    """``cols`` (N, C*KH*KW, L) summed back into an array of ``out_shape`` (N, C, H, W)."""
    N, CK, L = cols.shape
    out = np.empty(out_shape, cols.dtype)
    K.col2im(out, _swap01(cols).reshape(CK, N * L), *kernel, *geometry)
    return out


class Unfold(Function):
    """(N, C, H, W) -> (N, C*KH*KW, L) sliding blocks; ``geometry`` = (SH, SW, PH, PW, DH, DW)."""

    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, *, kernel, geometry):
        ctx.shape, ctx.kernel, ctx.geometry = x.shape, kernel, geometry
        return _unfold(x, kernel, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _fold(grad, ctx.shape, ctx.kernel, ctx.geometry)

    @staticmethod
    def backward_graph(ctx, grad):
        # col2im of grad alone (torch's im2col backward takes no input): linear, its own
        # gradient is the unfold again
        shape, kernel, geometry = ctx.shape, ctx.kernel, ctx.geometry
        return LinearMap.apply(grad, fn=lambda g: _fold(g, shape, kernel, geometry),
                               adjoint=lambda gg: _unfold(gg, kernel, geometry),
                               name="Col2ImBackward0", adjoint_name="Im2ColBackward0")


class Fold(Function):
    """(N, C*KH*KW, L) -> (N, C, H, W) with overlaps summed (``out_shape`` given)."""

    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, *, out_shape, kernel, geometry):
        ctx.kernel, ctx.geometry, ctx.out_shape = kernel, geometry, out_shape
        return _fold(cols, out_shape, kernel, geometry)

    @staticmethod
    def backward(ctx, grad):
        return _unfold(grad, ctx.kernel, ctx.geometry)

    @staticmethod
    def backward_graph(ctx, grad):
        kernel, geometry = ctx.kernel, ctx.geometry
        out_shape = ctx.out_shape
        return LinearMap.apply(grad, fn=lambda g: _unfold(g, kernel, geometry),
                               adjoint=lambda gg: _fold(gg, out_shape, kernel, geometry),
                               name="Im2ColBackward0", adjoint_name="Col2ImBackward0")


def adaptive_windows(size, out):
    """torch's adaptive pooling windows along one axis: [floor(i * size / out),
    ceil((i + 1) * size / out)) for each output index i."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


class AdaptiveMaxPool2d(Function):
    """Max over torch's adaptive windows of an (N, C, H, W) input; also returns the flat
    ``h*W + w`` argmax (int64), marked non-differentiable. One vectorised max per output cell
    (over the whole batch and all channels), not per element."""

    node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, *, output_size):
        N, C, H, W = x.shape
        OH, OW = output_size
        hs, he = adaptive_windows(H, OH)
        ws, we = adaptive_windows(W, OW)
        out = np.empty((N, C, OH, OW), x.dtype)
        idx = np.empty((N, C, OH, OW), np.int64)
        for i in range(OH):
            for j in range(OW):
                win = x[:, :, hs[i]:he[i], ws[j]:we[j]].reshape(N, C, -1)
                # NaN wins, as in torch (argmax of a NaN-free window is the first maximum)
                nan = np.isnan(win)
                k = np.where(nan.any(-1), nan.argmax(-1), win.argmax(-1))
                out[:, :, i, j] = np.take_along_axis(win, k[..., None], -1)[..., 0]
                kw = we[j] - ws[j]
                idx[:, :, i, j] = (hs[i] + k // kw) * W + ws[j] + k % kw
        ctx.shape, ctx.in_shape, ctx.idx = x.shape, x.shape, idx
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, grad, _grad_idx=None):
        N, C, H, W = ctx.shape
        grad_x = np.zeros((N * C, H * W), grad.dtype)
        rows = np.repeat(np.arange(N * C), ctx.idx[0, 0].size)
        np.add.at(grad_x, (rows, ctx.idx.reshape(-1)), np.ascontiguousarray(grad).reshape(-1))
        return grad_x.reshape(ctx.shape)

    @staticmethod
    def backward_graph(ctx, grad, _grad_idx=None):
        # the flat h*W + w argmax, as a max pool's: the same scatter, and gather back
        return pool_gradient(ctx, grad, "max", indices=ctx.idx)
