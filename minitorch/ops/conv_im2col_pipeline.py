"""im2col convolutions of a batch as a pipeline over slices of it (the strided 3x3 and 1x1
convolutions of a ResNet), forward and both gradients.

The whole-batch passes (``ops/conv.py``) write the batch's columns, then its channel-major
product, to memory, and each next pass reads them back: with short reductions (64 to 256
channels) that traffic is most of the time. Here each slice of the batch takes its passes on one
thread (serial, GIL-free twins of the kernels and a one-thread product, ``gemm.run_tasks``), so a
slice's columns and product stay in its core's cache, with no barrier between the passes.
Each output element is the same one BLAS dot product over the full reduction as in the
whole-batch product. The weight gradient's slices are summed in fixed groups, then the groups in
order (``gemm.sum_over_groups``), so its bits do not depend on the threads.
"""
import numpy as np

from ..kernels import conv as K
from ..kernels import gemm
from .conv_winograd import empty

__all__ = ["pipelined", "slices", "forward", "backward"]

# columns per slice, about (whole images, at least one), and at least this many slices
_SLICE_BYTES, _MIN_SLICES = 2 * 1024 * 1024, 4


def pipelined(N, groups, P, dtype) -> bool:
    """Whether an im2col convolution runs as the pipeline: a batch of float32 images, one group,
    more than one output pixel per image (one pixel takes the pixel-major product)."""
    return N >= 2 and groups == 1 and P > 1 and np.dtype(dtype) == np.float32


def slices(N, bytes_per_image):
    """(n0, n1) slices of the batch: about ``_SLICE_BYTES`` of columns each, at least
    ``_MIN_SLICES`` of them; the same for any thread count."""
    return gemm.batch_slices(N, _SLICE_BYTES // max(1, bytes_per_image), _MIN_SLICES)


def forward(workspace, geometry, out, x, w, bias, res, relu):
    """``out`` (N, O, OH, OW) = ``relu(conv(x, w) + bias + res)`` (``bias`` (O,) or empty,
    ``res`` (N, O, P) or empty, ``geometry`` the im2col arguments after the kernel size)."""
    N, O = out.shape[:2]
    P = out.shape[2] * out.shape[3]
    KH, KW = w.shape[2:]
    Kdim = x.shape[1] * KH * KW
    w2 = w.reshape(O, Kdim)
    out3 = out.reshape(N, O, P)

    def task(n0, n1):
        n = n1 - n0
        cols = workspace("cols", (Kdim, n * P), x.dtype)
        K.im2col_serial(cols, x[n0:n1], KH, KW, *geometry)
        prod = workspace("prod", (O, n * P), x.dtype)
        np.matmul(w2, cols, out=prod)
        K.swap01_serial(out3[n0:n1], prod.reshape(O, n, P), bias,
                        res[n0:n1] if res.size else res, relu)
    gemm.run_tasks(task, slices(N, Kdim * P * x.dtype.itemsize))


def backward(workspace, geometry, x, w, g, need_x, need_w):
    """(grad_x, grad_w) (None where not needed) of the convolution whose output gradient is
    ``g`` (N, O, P): per slice, the gradient made channel-major, the weight gradient's product
    with the slice's columns into its group's sum, the input gradient's columns folded back."""
    N, O, P = g.shape
    KH, KW = w.shape[2:]
    Kdim = x.shape[1] * KH * KW
    w2 = w.reshape(O, Kdim)
    grad_x = np.empty(x.shape, x.dtype) if need_x else None

    def task(group):
        total = part = None
        for n0, n1 in group:
            n = n1 - n0
            g2 = workspace("prod", (O, n, P), g.dtype)
            K.swap01_serial(g2, g[n0:n1], empty(g.dtype, 1), empty(g.dtype, 3), False)
            g2 = g2.reshape(O, n * P)
            cols = workspace("cols", (Kdim, n * P), x.dtype)
            if need_w:
                K.im2col_serial(cols, x[n0:n1], KH, KW, *geometry)
                if total is None:
                    total = np.matmul(g2, cols.T)
                else:
                    part = np.matmul(g2, cols.T, out=part)
                    total += part
            if need_x:
                np.matmul(w2.T, g2, out=cols)
                K.col2im_serial(grad_x[n0:n1], cols, KH, KW, *geometry)
        return total

    total = gemm.sum_over_groups(task, slices(N, Kdim * P * x.dtype.itemsize))
    grad_w = None
    if need_w:
        # in the weight's shape, filled through a 2-d view: the array owns its memory (so
        # AccumulateGrad can adopt it)
        grad_w = np.empty(w.shape, g.dtype)
        np.copyto(grad_w.reshape(O, Kdim), total)
    return grad_x, grad_w
