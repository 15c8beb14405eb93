"""A strided convolution of few input channels (ResNet's stem) as channels-last im2col and one
pixel-major product (``kernels/conv_nhwc.py`` says why that layout).

Forward: the input made channels-last and padded, ``cols = im2col_nhwc(x)`` (pixels, KH*KW*C),
``prod = cols @ W'`` (pixels, O) with ``W' = weight.transpose(2, 3, 1, 0)`` as (KH*KW*C, O),
then an optional max-pool on ``prod`` itself and the copy to NCHW, the bias, a residual and
ReLU inside it (``kernels.conv.transpose12``). Weight gradient: ``g[n] @ cols[n]`` per image
over the same columns, summed and reordered to (O, C, KH, KW). The input gradient is im2col's
(``ops.conv``), which does not depend on the forward's layout. Only a batch takes this path
(``ops.conv._Plan``: one image stays NCHW), as a pipeline over slices of it.
"""
import numpy as np

from ..kernels import conv as K
from ..kernels import conv_nhwc as NK
from ..kernels import gemm

__all__ = ["use_nhwc", "forward", "grad_weight"]

# at most this many input channels: the channels-last copy of the input is then cheap, and
# each window row (KW * C numbers) is too short for the NCHW gather to vectorise
_MAX_CHANNELS = 4


def use_nhwc(x_shape, w_shape, stride, dilation, groups) -> bool:
    """Whether the im2col convolution of these shapes takes the channels-last columns: a stride,
    no dilation, one group and at most ``_MAX_CHANNELS`` input channels."""
    return (groups == 1 and tuple(dilation) == (1, 1) and tuple(stride) != (1, 1)
            and x_shape[1] <= _MAX_CHANNELS)


def _weight_rows(w):
    """(KH*KW*C, O): the weight in the columns' order."""
    O = w.shape[0]
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(-1, O)


def _padded(workspace, x, padding):
    N, C, H, W = x.shape
    PH, PW = padding
    xp = workspace("nhwc", (N, H + 2 * PH, W + 2 * PW, C), x.dtype)
    NK.nhwc_padded(xp, x, PH, PW)
    return xp


# a pipeline slice: about this many output pixels (whole images, at least one), in bands of
# about _BAND_BYTES of columns, and at least _MIN_SLICES slices
_SLICE_PIXELS, _BAND_BYTES, _MIN_SLICES = 4096, 1024 * 1024, 4


def _slices(N, P):
    """The pipeline's slices of a batch of ``N`` images of ``P`` output pixels."""
    return gemm.batch_slices(N, -(-_SLICE_PIXELS // P), _MIN_SLICES)


def _band_rows(n, OH, OW, Kdim, itemsize):
    """Output rows per band of a slice of ``n`` images: about ``_BAND_BYTES`` of columns."""
    return max(1, min(OH, _BAND_BYTES // max(1, n * OW * Kdim * itemsize)))


def _products(workspace, x, w, padding, stride):
    """``prod`` (N, OH*OW, O): a slice's raw product, pixel-major, on this thread; the columns
    are made a band of output rows of every image at a time."""
    O, C, KH, KW = w.shape
    SH, SW = stride
    xp = _padded(workspace, x, padding)
    N, HP, WP = xp.shape[:3]
    OH, OW = (HP - KH) // SH + 1, (WP - KW) // SW + 1
    Kdim = KH * KW * C
    prod = workspace("prod", (N, OH * OW, O), x.dtype)
    p2 = prod.reshape(N, OH, OW, O)
    w2 = _weight_rows(w)
    rows = _band_rows(N, OH, OW, Kdim, x.dtype.itemsize)
    for r0 in range(0, OH, rows):
        r1 = min(OH, r0 + rows)
        cols = workspace("cols", (N * (r1 - r0) * OW, Kdim), x.dtype)
        NK.im2col_nhwc(cols, xp, KH, KW, SH, SW, r0)
        if r1 - r0 == OH:
            np.matmul(cols, w2, out=prod.reshape(-1, O))
        elif N == 1:   # the band's rows of the product are contiguous
            np.matmul(cols, w2, out=prod[0, r0 * OW:r1 * OW])
        else:   # each image's band of rows of the product
            band = workspace("band", (N, (r1 - r0) * OW, O), x.dtype)
            np.matmul(cols, w2, out=band.reshape(-1, O))
            p2[:, r0:r1] = band.reshape(N, r1 - r0, OW, O)
    return prod, (OH, OW)


def forward(workspace, out, x, w, padding, stride, bias, res, relu, pool):
    """``out`` (N, O, ...) = the convolution of ``x`` (N, C, H, W) by ``w`` (O, C, KH, KW), then
    max-pooled by ``pool`` (``ops.conv.pool_geometry``, or None), with ``bias`` (the epilogue's
    (O,) array, empty for none), ``res`` (shaped like ``out``, empty for none) and ReLU added in
    the copy to NCHW. The pool runs before the bias and ReLU, which are monotone per channel:
    bitwise the same maxima as after them (see ``ops.conv._pool_first``).

    A pipeline over slices of the batch (``kernels.gemm.run_tasks``, as
    ``ops/conv_im2col_pipeline.py`` says why): each slice's columns, product, pool and copy on
    one thread, in bands of columns that stay in its cache."""
    OH = (x.shape[2] + 2 * padding[0] - w.shape[2]) // stride[0] + 1
    OW = (x.shape[3] + 2 * padding[1] - w.shape[3]) // stride[1] + 1

    def task(n0, n1):
        _forward_slice(workspace, out[n0:n1], x[n0:n1], w, padding, stride, bias,
                       res[n0:n1] if res.size else res, relu, pool)
    gemm.run_tasks(task, _slices(x.shape[0], OH * OW))


def _forward_slice(workspace, out, x, w, padding, stride, bias, res, relu, pool):
    N, O = out.shape[:2]
    prod, (OH, OW) = _products(workspace, x, w, padding, stride)
    if pool is not None:
        PH, PW = out.shape[2:]
        pooled = workspace("stage", (N, PH, PW, O), x.dtype)
        NK.max_pool_nhwc_values(pooled, prod.reshape(N, OH, OW, O), *pool[:-2])
        prod = pooled.reshape(N, PH * PW, O)
    out3 = out.reshape(N, O, -1)
    K.transpose12_serial(out3, prod, bias, res, relu)


def grad_weight(workspace, x, w_shape, g, padding, stride):
    """The weight gradient ``sum_n g[n] @ cols[n]`` (``g``: the output gradient (N, O,
    OH*OW), as the backward receives it) as an (O, C, KH, KW) array, as the forward's pipeline:
    per slice, the channels-last columns in bands of output rows, each image's band of ``g``
    times its band of columns, summed on one thread into its group of slices' total
    (``gemm.sum_over_groups``). Taking ``g`` per image as it is, rather than one channel-major
    copy of the whole batch's gradient, keeps that copy (49 MiB for the stem at batch 16 and
    224x224) out of the scratch."""
    O, C, KH, KW = w_shape
    N, _, P = g.shape
    K = KH * KW * C
    OH = (x.shape[2] + 2 * padding[0] - KH) // stride[0] + 1
    OW = P // OH

    def task(group):
        total = np.zeros((O, K), x.dtype)
        part = np.empty((O, K), x.dtype)
        for n0, n1 in group:
            n = n1 - n0
            xp = _padded(workspace, x[n0:n1], padding)
            rows = _band_rows(n, OH, OW, K, x.dtype.itemsize)
            for r0 in range(0, OH, rows):
                r1 = min(OH, r0 + rows)
                band = (r1 - r0) * OW
                cols = workspace("cols", (n * band, K), x.dtype)
                NK.im2col_nhwc(cols, xp, KH, KW, *stride, r0)
                for j in range(n):
                    np.matmul(g[n0 + j, :, r0 * OW:r1 * OW], cols[j * band:(j + 1) * band],
                              out=part)
                    total += part
        return total

    gw = gemm.sum_over_groups(task, _slices(N, P))
    return np.ascontiguousarray(gw.reshape(O, KH, KW, C).transpose(0, 3, 1, 2))
