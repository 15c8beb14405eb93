"""The backward of the Winograd 3x3 stride-1 convolutions, F(4x4, 3x3) where it pays.

The input gradient of ``y = conv2d(x, w, padding=p)`` is itself a 3x3 stride-1 convolution:
``grad_x = conv2d(grad_y, flip(w).transpose(0, 1), padding=2 - p)`` (PyTorch's transposed
convolution with stride 1), so the forward's F(4x4, 3x3) kernels compute it with 1.78x fewer GEMM
flops than F(2x2, 3x3) and a 2.25x-sized transformed gradient instead of 4x. The weight gradient
is the correlation of input tiles with output-gradient tiles: F(4x4, 3x3)'s adjoint transforms
(``kernels/winograd43_grad.py``) where the forward uses F(4x4, 3x3), F(2x2, 3x3)'s elsewhere.

Scratch as the forward: "cols" holds a transformed input, "prod" a product or its gradient. The
weight gradient runs first (it reads "prod" and "cols"), the input gradient then reuses both.

Where the forward runs pipelined (``conv_winograd.pipelined``), so does the backward: each slice
of the batch takes both gradients' passes on one thread (``_backward_pipelined``).
"""
import numpy as np

from ..kernels import gemm
from ..kernels import winograd as WG2
from ..kernels import winograd43_grad as WG43G
from ..kernels.winograd43 import tiles43
from . import conv_winograd as WG

__all__ = ["winograd_backward"]


def winograd_backward(workspace, x, w, grad_out, padding, need_x, need_w, batch_slices, U=None):
    """(grad_x, grad_w) of the 3x3 stride-1 convolution ``conv2d(x, w, padding=padding)`` (None
    where not needed), ``grad_out`` its output gradient. The F(4x4, 3x3) gradients run over
    ``batch_slices(N, bytes_per_image)`` (``ops.conv._batch_slices``), as the forward does:
    whole-batch scratch (29 MB each for layer1 at batch 16) made their transforms ~1.5x slower.
    ``U``: the forward's F(2x2, 3x3) transform of ``w``, if it kept one."""
    grad_out = np.ascontiguousarray(grad_out)
    N, C, H, W = x.shape
    O, OH, OW = grad_out.shape[1:]
    TH, TW = tiles43(OH, OW)
    if WG.pipelined(N, C, O, WG.forward_planes(C, O, OH, OW), TH * TW) and (
            not need_x or (max(padding) <= 2 and WG.forward_planes(O, C, H, W) == 36)):
        return _backward_pipelined(workspace, x, w, grad_out, padding, need_x, need_w)
    grad_w = None
    if need_w:
        if WG.forward_planes(C, O, OH, OW) == 36:
            grad_w = _grad_weight43(workspace, x, w, grad_out, padding, batch_slices)
        else:
            dM = WG.grad_products(workspace, grad_out)
            grad_w = WG.winograd_grad_weight(workspace, x, w, dM, padding)
    if not need_x:
        return None, grad_w
    if max(padding) <= 2 and WG.forward_planes(O, C, H, W) == 36:
        return _grad_input43(workspace, x.shape, w, grad_out, padding, batch_slices), grad_w
    if not need_w or WG.forward_planes(C, O, OH, OW) == 36:
        dM = WG.grad_products(workspace, grad_out)  # not left in "prod" by the weight gradient
    return WG.winograd_grad_input(workspace, x.shape, w, dM, padding, U), grad_w


def _grad_weight43(workspace, x, w, grad_out, padding, batch_slices):
    """``G^T (dM @ V^T) G`` with F(4x4, 3x3)'s 36 planes, ``V`` recomputed from the input, the
    slices' products ``dU`` summed."""
    N, O, OH, OW = grad_out.shape
    TH, TW = tiles43(OH, OW)
    C = w.shape[1]
    dU = np.empty((36, O, C), grad_out.dtype)
    part = None
    per_image = 36 * max(C, O) * TH * TW * grad_out.dtype.itemsize
    for n0, n1 in batch_slices(N, per_image):
        dM_full, dM = WG._planes(workspace, "prod", O, (n1 - n0) * TH * TW, grad_out.dtype, 36)
        WG43G.output_transform_adjoint43(dM_full, grad_out[n0:n1])
        V = WG._transformed_input(workspace, x[n0:n1], padding, 36)
        if n0 == 0:
            gemm.matmul(dM, V.transpose(0, 2, 1), dU)
            continue
        part = np.empty_like(dU) if part is None else part
        dU += gemm.matmul(dM, V.transpose(0, 2, 1), part)
    grad_w = np.empty(w.shape, grad_out.dtype)
    WG43G.weight_grad_transform43(grad_w, dU)
    return grad_w


def _grad_input43(workspace, x_shape, w, grad_out, padding, batch_slices):
    """The input gradient as the forward F(4x4, 3x3) convolution of ``grad_out`` with the
    flipped, channel-transposed weight (padding ``2 - p`` gives back the input's size)."""
    U = _flipped_transform(w)
    grad_x = np.empty(x_shape, grad_out.dtype)
    per_image = WG.input_bytes_per_image(grad_out.shape[1], x_shape[1], *x_shape[2:],
                                         grad_out.dtype.itemsize)
    pad = (2 - padding[0], 2 - padding[1])
    for n0, n1 in batch_slices(x_shape[0], per_image):
        WG.winograd_forward(workspace, grad_x[n0:n1], grad_out[n0:n1], U, pad)
    return grad_x


def _flipped_transform(w):
    """F(4x4, 3x3)'s ``U`` of the input gradient's weight: ``w`` flipped, channels swapped."""
    return WG.weight_transform(np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)), 36)


def _backward_pipelined(workspace, x, w, grad_out, padding, need_x, need_w):
    """Both F(4x4, 3x3) gradients as one pipeline over slices of the batch: per slice, the
    weight gradient's ``dM`` and ``V`` and their product into the slice group's ``dU``
    (``gemm.sum_over_groups``), then the input gradient's forward convolution of the slice's
    output gradient."""
    N = x.shape[0]
    O, OH, OW = grad_out.shape[1:]
    TH, TW = tiles43(OH, OW)
    dtype = grad_out.dtype
    slices = WG.pipeline_slices(N, TH * TW)
    grad_x = np.empty(x.shape, dtype) if need_x else None
    U = _flipped_transform(w) if need_x else None
    pad = (2 - padding[0], 2 - padding[1])

    def task(group):
        dU = part = None
        for n0, n1 in group:
            if need_w:
                dM_full, dM = WG._planes(workspace, "prod", O, (n1 - n0) * TH * TW, dtype, 36)
                WG43G.output_transform_adjoint43_serial(dM_full, grad_out[n0:n1])
                V = WG._transformed_input(workspace, x[n0:n1], padding, 36, in_task=True)
                if dU is None:
                    dU = np.matmul(dM, V.transpose(0, 2, 1))
                else:
                    part = np.matmul(dM, V.transpose(0, 2, 1), out=part)
                    dU += part
            if need_x:
                WG.winograd_forward(workspace, grad_x[n0:n1], grad_out[n0:n1], U, pad,
                                    in_task=True)
        return dU

    dU = gemm.sum_over_groups(task, slices)
    grad_w = None
    if need_w:
        grad_w = np.empty(w.shape, dtype)
        WG43G.weight_grad_transform43(grad_w, dU)
    return grad_x, grad_w
