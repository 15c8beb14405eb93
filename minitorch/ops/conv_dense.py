"""Convolutions on maps of a few pixels as ONE dense product, no im2col and no Winograd.

On a 2x2 map (torchvision's layer3 at 32x32 input) a 3x3 convolution links every input pixel
to every output pixel through some tap: the convolution is the dense linear map
``D`` (``kernels/conv_dense.py``, a row per output value) from ``C*H*W`` input values to
``O*OH*OW`` outputs, and an NCHW batch reshaped to ``(N, C*H*W)`` times ``D^T`` is the NCHW
output. That is one large GEMM (K =
4C) with no layout copy on either side, where F(2x2, 3x3) Winograd makes the same number of
multiplications in 16 thin products with three transforms around them, and im2col 2.25x more.
The backward is two GEMMs of the same shape (``grad_x = G @ D``, ``grad_D = G^T @ X``) and a
fold of ``grad_D`` onto the taps.

Taken when it needs no more multiplications than the alternative (``use_dense``): at most as
many input pixels as live kernel taps. Each output is one BLAS dot product over its real
inputs (the zeros of ``D`` add exact zeros), im2col's sum in another order.
"""
import numpy as np

from ..kernels import activation as A
from ..kernels import conv_dense as K
from ..kernels import gemm

__all__ = ["tap_table", "use_dense", "finite", "dense_matrix", "dense_forward", "dense_backward"]

# D is (O*OH*OW, C*H*W): layer4's 512 channels on a 2x2 map make 16 MB, as large as the
# Winograd transform U it replaces; larger ones are left to the other paths
_MAX_DENSE_BYTES = 16 * 1024 * 1024


def tap_table(x_shape, w_shape, stride, padding, dilation, out_hw):
    """``T`` (H*W, OH*OW) int64: the flat tap ``kh*KW + kw`` that links input pixel ``pi`` to
    output pixel ``po``, -1 where none does."""
    (H, W), (KH, KW) = x_shape[2:], w_shape[2:]
    OH, OW = out_hw
    kh = _taps_1d(H, OH, KH, stride[0], padding[0], dilation[0])   # (H, OH)
    kw = _taps_1d(W, OW, KW, stride[1], padding[1], dilation[1])   # (W, OW)
    T = kh[:, None, :, None] * KW + kw[None, :, None, :]
    T[(kh[:, None, :, None] < 0) | (kw[None, :, None, :] < 0)] = -1
    return np.ascontiguousarray(T.reshape(H * W, OH * OW), np.int64)


def _taps_1d(size, out, k, s, p, d):
    """(size, out): along one axis, the tap index through which output ``o`` reads input ``i``
    (``i = o*s - p + t*d``), -1 for none."""
    i, o = np.arange(size)[:, None], np.arange(out)[None, :]
    offset = i - o * s + p
    t = offset // d
    return np.where((offset % d == 0) & (t >= 0) & (t < k), t, -1)


def use_dense(x_shape, w_shape, groups, out_hw, live_taps, winograd_products=None,
              dtype=np.float32) -> bool:
    """Whether the dense product makes no more multiplications than im2col over ``live_taps``
    kernel taps (the trimmed kernel's, ``conv_taps``) and, when given, than Winograd's
    ``winograd_products`` per (image, output channel, input channel); and fits its size bound."""
    _, C, H, W = x_shape
    O = w_shape[0]
    PI, PO = H * W, out_hw[0] * out_hw[1]
    if groups != 1 or PI == 0 or PO == 0 or PI > live_taps:
        return False
    if winograd_products is not None and PI * PO > winograd_products:
        return False
    return C * PI * O * PO * np.dtype(dtype).itemsize <= _MAX_DENSE_BYTES


def finite(a) -> bool:
    """Whether ``a`` holds no NaN or infinity, the dense product's precondition: its zeros
    multiply every input value, so one NaN (or inf, as 0 * inf) would reach every output of
    its image where the convolution reaches only the pixels its taps link (the callers then
    take im2col, which multiplies real inputs only). A float overflow of the sum errs on the
    safe side."""
    return bool(np.isfinite(a.sum()))


def dense_matrix(w, T, out=None):
    """``D`` (O*PO, C*PI) of weight ``w`` (O, C, KH, KW) for tap table ``T``."""
    O, C = w.shape[:2]
    PI, PO = T.shape
    D = np.empty((O * PO, C * PI), w.dtype) if out is None else out
    w3 = np.ascontiguousarray(w).reshape(O, C, -1)
    if not w3.flags.writeable:  # read-only is another numba signature: one compile serves all
        w3 = w3.copy()
    K.dense_weight(D, w3, T)
    return D


def dense_forward(out, x, D, bias=None, res=None, relu=False):
    """``out`` (N, O, OH, OW) = ``x @ D^T`` (+ ``bias`` per channel, then ``+ res``, then ReLU,
    each as its own op would round it)."""
    N, O = out.shape[:2]
    flat = out.reshape(N, -1)
    gemm.matmul(x.reshape(N, -1), D.T, flat)
    out3 = out.reshape(N, O, -1)
    if bias is not None:
        out3 += np.asarray(bias, out.dtype).reshape(1, O, 1)
    if res is not None:
        flat += res.reshape(N, -1)
    if relu:
        A.relu_forward(flat.reshape(-1), flat.reshape(-1))
    return out


def dense_backward(x, w_shape, D, T, grad_out, need_x, need_w):
    """(grad_x, grad_w) of ``dense_forward``, each None when not needed."""
    N = x.shape[0]
    G = np.ascontiguousarray(grad_out).reshape(N, -1)
    grad_x = grad_w = None
    if need_x:
        grad_x = np.empty(x.shape, grad_out.dtype)
        gemm.matmul(G, D, grad_x.reshape(N, -1))
    if need_w:
        gD = np.empty(D.shape, grad_out.dtype)
        gemm.matmul(G.T, x.reshape(N, -1), gD)
        grad_w = np.empty(w_shape, grad_out.dtype)
        O, C = w_shape[:2]
        K.dense_weight_grad(grad_w.reshape(O, C, -1), gD, T)
    return grad_x, grad_w
