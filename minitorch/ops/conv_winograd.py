"""The 3x3, stride-1 convolutions (83% of ResNet-18's flops) by Winograd.

The forward runs F(4x4, 3x3) (``kernels/winograd43.py``: 1.78x fewer GEMM flops than F(2x2, 3x3)
and a 2.25x-input ``V`` instead of 4x, at 8x F(2x2, 3x3)'s rounding error, ~3e-6 of the output)
at 16x16 and more, and down to 7x7 with 256 channels and more (see ``forward_planes``), and
F(2x2, 3x3) on other maps; the backward (``conv_winograd_grad``) takes F(4x4, 3x3) at 16x16 and
more only.

Same contract as the im2col path in ``ops/conv.py`` (which calls these): NCHW in and out, one
batched BLAS call per product, scratch from the same two per-thread workspaces ("cols" holds the
transformed input ``V`` or its gradient, "prod" the products ``M`` or their gradient). The
product is 2.25x fewer flops than im2col's and ``V`` is 4x the input where im2col's columns are
9x, so the step gets faster and its scratch smaller. See ``minitorch/kernels/winograd.py`` for
the algorithm and its error (float32 rounding, like im2col's).
"""
import functools
import weakref

import numpy as np

from ..kernels import gemm
from ..kernels import winograd as WG
from ..kernels import winograd43 as WG43

__all__ = ["use_winograd", "forward_planes", "products", "is_frozen", "transformed_weight",
           "weight_transform", "scaled_weight", "input_bytes_per_image", "winograd_forward",
           "tiles_per_image", "pipelined", "pipeline_slices", "forward_pipelined", "empty", "grad_products",
           "winograd_grad_weight", "winograd_grad_input"]

# Below this many input or output channels the 16 GEMMs are too thin to beat im2col (measured:
# the small variant's 3-channel stem is faster as one im2col product).
_MIN_CHANNELS = 16
# With fewer F(2x2, 3x3) tiles than this and a weight of at least 256x256 channels, the weight
# transform (16 * O * C values written per call) costs more than the GEMM saves: at batch 1 and
# 224x224, ResNet-18's layer3 (49 tiles) and layer4 (16 tiles; a 16.8 MB U for a 9.4 MB weight)
# run faster as im2col, and keep no U.
_MIN_TILES, _BIG_WEIGHT = 64, 256 * 256
# F(4x4, 3x3) on maps under 16x16 from this many F(2x2, 3x3) tiles in the batch (forward_planes)
_SMALL_MAPS_MIN_TILES = 512
# F(4x4, 3x3) convolutions of at most this many channels run pipelined (forward_pipelined), and
# of up to _PIPELINE_WIDE_CHANNELS with at least _PIPELINE_WIDE_TILES tiles per image, in slices
# of about _PIPELINE_SLICE_TILES tiles (whole images, at least one), at least
# _PIPELINE_MIN_SLICES of them
_PIPELINE_MAX_CHANNELS, _PIPELINE_SLICE_TILES, _PIPELINE_MIN_SLICES = 128, 128, 4
_PIPELINE_WIDE_CHANNELS, _PIPELINE_WIDE_TILES = 256, 16


def use_winograd(x_shape, w_shape, stride, dilation, groups, dtype, out_hw=None) -> bool:
    """Whether this convolution takes the Winograd path (``out_hw``: its (OH, OW), if known).

    float32 only. A float64 convolution is asked for precision (gradcheck), not speed, and
    takes im2col, as PyTorch's CPU float64 convolution is its im2col-and-GEMM ``slow_conv2d``:
    sums of the products themselves, without the transforms' extra rounding, and no float64
    build of the Winograd kernels to wait for (about 2 minutes of compiling).
    """
    O, C, KH, KW = w_shape
    if np.dtype(dtype) != np.float32:
        return False
    if not ((KH, KW) == (3, 3) and stride == (1, 1) and dilation == (1, 1) and groups == 1
            and min(C, O) >= _MIN_CHANNELS):
        return False
    if out_hw is None or O * C < _BIG_WEIGHT:
        return True
    TH, TW = WG.tiles(*out_hw)
    return x_shape[0] * TH * TW >= _MIN_TILES


def forward_planes(C, O, OH, OW, small_maps=False, images=None) -> int:
    """36 (F(4x4, 3x3)) or 16 (F(2x2, 3x3)): the algorithm for this convolution's shapes.

    Measured at ResNet-18's shapes, batch 16 and 1: F(4x4, 3x3) is 25-35% faster at 56x56 and
    28x28 (64 and 128 channels). Under 64 channels the products are too small for the saving to
    pay for compiling a second set of kernels (the digits job's width-16 model never reaches
    them). ``small_maps`` (the forward's rule, ``ops.conv._Plan``): F(4x4, 3x3) down to 7x7
    maps too when both channel counts are 256 or more. There its 6x6 tiles overhang the map
    (16x16 covered for 14x14, 8x8 for 7x7) and its ``U`` is 2.25x larger, but the products
    dominate and it still wins: CPU time per convolution at batch 16, transforms included,
    layer3 (256 channels, 14x14) 70 -> 57 ms and layer4 (512, 7x7) 84 -> 70 ms with the
    weight transformed per call (68 -> 54 and 77 -> 58 with it kept), at batch 64 278 -> 217
    and 319 -> 226, the small variant's layer3 at batch 64 (256, 8x8) 93 -> 70. With 64
    channels at 8x8 (torchvision's stem at 32x32 input) it was slower (10.7 -> 11.5), and at
    4x4 (512 channels) no faster. The backward's gradients keep the rule without it.

    ``images``: the batch, when known. On small maps F(4x4, 3x3)'s larger weight transform is
    made on every call (37.7 MB for layer4) and only a batch with enough tiles pays for it:
    measured with AVX-512 BLAS on an AMD EPYC, layer4 (512 channels, 7x7) at batch 16 (256
    F(2x2, 3x3) tiles) forward 14.6-15.4 ms with F(4x4, 3x3) against 8.6-9.7 with F(2x2, 3x3),
    the training step's convolution 34-35 against 25-27; at batch 64 (1024 tiles) 24-27 against
    27-28 and 83 against 84; layer3 at batch 16 (14x14, 784 tiles) 19-21 against 18-19.
    """
    if min(C, O) < 64:
        return 16
    if min(OH, OW) >= 16:
        return 36
    if small_maps and min(OH, OW) >= 7 and min(C, O) >= 256:
        TH, TW = WG.tiles(OH, OW)
        return 36 if images is None or images * TH * TW >= _SMALL_MAPS_MIN_TILES else 16
    return 16


def tiles_per_image(planes, OH, OW) -> int:
    """Winograd tiles covering one (OH, OW) output: F(4x4, 3x3)'s (36 planes) or F(2x2, 3x3)'s."""
    TH, TW = (WG43.tiles43 if planes == 36 else WG.tiles)(OH, OW)
    return TH * TW


def products(planes, OH, OW) -> int:
    """Multiplications per (image, output channel, input channel) of the Winograd GEMMs."""
    return planes * tiles_per_image(planes, OH, OW)


# (id(weight), planes) -> (weakref to the weight, U) for read-only weights, see transformed_weight
_frozen_U = {}


def is_frozen(w) -> bool:
    """Whether ``w`` can never change: a read-only array that owns its memory (``nn.fuse``'s
    folded weights), whose ``U`` ``transformed_weight`` keeps."""
    return not w.flags.writeable and w.base is None


def transformed_weight(w, planes=16):
    """``U`` (planes, O, C) for a (O, C, 3, 3) weight: F(2x2, 3x3)'s 16 planes or F(4x4, 3x3)'s 36.

    A read-only array that owns its memory cannot change, so its ``U`` is kept while the array
    lives: minitorch.nn.fuse hands out such arrays for the folded weights of a frozen backbone,
    which would otherwise be transformed again on every forward (4% of a frozen step).
    """
    frozen = is_frozen(w)
    key = (id(w), planes)
    if frozen:
        entry = _frozen_U.get(key)
        if entry is not None and entry[0]() is w:
            return entry[1]
    U = weight_transform(w, planes)
    if frozen:
        _frozen_U[key] = (weakref.ref(w, lambda _, key=key: _frozen_U.pop(key, None)), U)
    return U


def weight_transform(w, planes=16, scale=None, out=None):
    """``U`` for ``w``, computed now and kept nowhere (``transformed_weight`` keeps it), into
    ``out`` when given. ``scale`` (O,) float64: the ``U`` of ``w * scale[o]`` per output channel,
    that product rounded to ``w``'s dtype (``scaled_weight``'s numbers, a folded BatchNorm)."""
    U = np.empty((planes, w.shape[0], w.shape[1]), w.dtype) if out is None else out
    weight = np.ascontiguousarray(w)
    if not weight.flags.writeable:
        # numba compiles a kernel once per argument type, and read-only is part of the type:
        # a copy keeps the one signature the warm-up compiles (frozen weights come here once)
        weight = weight.copy()
    if planes == 36:
        scale = np.ones(w.shape[0]) if scale is None else np.ascontiguousarray(scale, np.float64)
        WG43.weight_transform43(U, weight, scale)
    else:
        if scale is not None:
            weight = scaled_weight(weight, scale)
        WG.weight_transform_for(U)(U, weight)
    return U


# output channels scaled at a time: no whole-weight float64 temporary (38 MB for layer4)
_SCALE_BLOCK = 32


def scaled_weight(w, scale):
    """``w * scale[o]`` per output channel (``scale`` float64), in float64 and rounded once to
    ``w``'s dtype: a BatchNorm folded into its convolution's weight (``nn.fuse``)."""
    out = np.empty(w.shape, w.dtype)
    for o in range(0, w.shape[0], _SCALE_BLOCK):
        block = w[o:o + _SCALE_BLOCK].astype(np.float64)
        block *= np.asarray(scale[o:o + _SCALE_BLOCK], np.float64).reshape(-1, 1, 1, 1)
        out[o:o + _SCALE_BLOCK] = block
    return out


def _row_length(T: int, itemsize: int) -> int:
    """A row length >= T whose rows are 64-byte aligned but never a multiple of 1 KiB apart
    (a precaution against power-of-two strides: see the kernels' module docstring)."""
    per_line = 64 // itemsize
    LD = -(-T // per_line) * per_line
    return LD + per_line if (LD * itemsize) % 1024 == 0 else LD


def _planes(workspace, name, rows, T, dtype, planes=16):
    """Scratch (planes, rows, LD) for the kernels, and its (planes, rows, T) view for the GEMMs."""
    full = workspace(name, (planes, rows, _row_length(T, np.dtype(dtype).itemsize)), dtype)
    return full, full[:, :, :T]


def _transformed_input(workspace, x, padding, planes=16, serial=False, in_task=False):
    N, C, H, W = x.shape
    tiles = WG43.tiles43 if planes == 36 else WG.tiles
    TH, TW = tiles(H + 2 * padding[0] - 2, W + 2 * padding[1] - 2)
    V_full, V = _planes(workspace, "cols", C, N * TH * TW, x.dtype, planes)
    if planes == 36:
        (WG43.input_transform43_serial if in_task else WG43.input_transform43)(V_full, x,
                                                                               *padding)
    else:
        (WG.input_transform_serial if serial else WG.input_transform)(V_full, x, *padding)
    return V


def input_bytes_per_image(C, O, OH, OW, itemsize) -> int:
    """Scratch bytes one image takes in the forward (the larger of its ``V`` and ``M`` planes)."""
    planes = forward_planes(C, O, OH, OW)
    TH, TW = (WG43.tiles43 if planes == 36 else WG.tiles)(OH, OW)
    return planes * max(C, O) * TH * TW * itemsize


def winograd_forward(workspace, out, x, U, padding, bias=None, res=None, relu=False,
                     serial=False, in_task=False):
    """``out`` (N, O, OH, OW) = ``conv2d(x, w, bias, padding=padding)``, ``U`` =
    ``transformed_weight(w, forward_planes(C, O, OH, OW))`` for a 3x3 stride-1 weight ``w``;
    then ``+ res`` (an array shaped like ``out``) and ReLU when given, inside the output
    transform (the inference path's fused epilogue, see ``ops/conv.py``). ``serial``:
    F(2x2, 3x3)'s transforms by their serial twins (``ops.conv.forward_once``). ``in_task``:
    one slice of ``forward_pipelined`` on this thread alone (serial transforms and product)."""
    planes = U.shape[0]
    V = _transformed_input(workspace, x, padding, planes, serial or in_task, in_task)
    M_full, M = _planes(workspace, "prod", out.shape[1], V.shape[2], x.dtype, planes)
    if in_task:
        np.matmul(U, V, out=M)
    else:
        gemm.matmul(U, V, M)
    res = empty(x.dtype, 4) if res is None else res
    if planes == 36:  # its output transform always takes a bias (one signature)
        bias = np.zeros(out.shape[1], x.dtype) if bias is None else bias
        (WG43.output_transform43_serial if in_task else WG43.output_transform43)(
            out, M_full, np.ascontiguousarray(bias, x.dtype), res, relu)
        return
    bias = empty(x.dtype, 1) if bias is None else np.ascontiguousarray(bias, x.dtype)
    (WG.output_transform_serial if serial or in_task else WG.output_transform)(
        out, M_full, bias, res, relu)


def pipelined(N, C, O, planes, tiles_per_image) -> bool:
    """Whether this convolution's F(4x4, 3x3) passes run as a pipeline over slices of the batch
    (``forward_pipelined``, and the backward's likewise) rather than as whole-batch passes.

    A whole-batch pass writes its transformed input ``V`` and products ``M`` (2.25x the input
    each) to memory and the next pass reads them back; with few channels the products are too
    small to hide that traffic. A pipeline slice's ``V`` and ``M`` stay in its core's cache,
    and each thread runs its slices alone (serial kernels, a one-thread product), with no
    barrier between the passes. It pays at 64 channels, by a few percent at 128, ties at 256
    on 14x14 maps (16 tiles an image) and loses at 256 on 8x8 (4 tiles), where the per-slice
    products get too thin (README, "How the step is made fast")."""
    if planes != 36 or N < 2:
        return False
    wide = max(C, O)
    return wide <= _PIPELINE_MAX_CHANNELS or (
        wide <= _PIPELINE_WIDE_CHANNELS and tiles_per_image >= _PIPELINE_WIDE_TILES)


def pipeline_slices(N, tiles_per_image):
    """Slices (n0, n1) of the batch for the pipeline: about ``_PIPELINE_SLICE_TILES`` tiles
    each (the best measured at 64 and 128 channels, 32x32 to 56x56 maps: 1-8 images), and at
    least ``_PIPELINE_MIN_SLICES``. They depend on the shapes only, not on the threads: a
    slice's product may round differently from a larger one's, and a result should not change
    with the thread count."""
    return gemm.batch_slices(N, _PIPELINE_SLICE_TILES // max(1, tiles_per_image),
                             _PIPELINE_MIN_SLICES)


def forward_pipelined(workspace, out, x, U, padding, bias=None, res=None, relu=False):
    """``winograd_forward`` for F(4x4, 3x3) ``U`` as a pipeline (see ``pipelined``): each slice
    of the batch transformed, multiplied and transformed back by one thread."""
    N = x.shape[0]

    def task(n0, n1):
        winograd_forward(workspace, out[n0:n1], x[n0:n1], U, padding, bias,
                         None if res is None else res[n0:n1], relu, in_task=True)
    gemm.run_tasks(task, pipeline_slices(N, tiles_per_image(36, *out.shape[2:])))


@functools.lru_cache(maxsize=None)
def empty(dtype, ndim):
    """An empty ``ndim``-d array: what the kernels take for "no bias" or "no residual" (one
    signature serves both cases; not read-only, which numba would type as another signature).
    Shared, but with no element nothing can write to it."""
    return np.zeros((0,) * ndim, dtype)


def grad_products(workspace, grad_out):
    """``dM`` (16, O, T) (a view of padded scratch): the output gradient taken back through the
    output transform."""
    N, O, OH, OW = grad_out.shape
    TH, TW = WG.tiles(OH, OW)
    dM_full, dM = _planes(workspace, "prod", O, N * TH * TW, grad_out.dtype)
    WG.output_transform_adjoint(dM_full, np.ascontiguousarray(grad_out))
    return dM


def winograd_grad_weight(workspace, x, w, dM, padding):
    """The weight gradient ``G^T (dM @ V^T) G``, with ``V`` recomputed from the saved input."""
    V = _transformed_input(workspace, x, padding)
    grad_w = np.empty(w.shape, dM.dtype)
    dU = np.empty((16, w.shape[0], w.shape[1]), dM.dtype)
    WG.weight_grad_transform(grad_w, gemm.matmul(dM, V.transpose(0, 2, 1), dU))
    return grad_w


def winograd_grad_input(workspace, x_shape, w, dM, padding, U=None):
    """The input gradient: ``dV = U^T @ dM`` folded back onto the input by the adjoint transform
    (``U``: ``w``'s 16-plane transform when the forward kept it)."""
    C = w.shape[1]
    dV_full, dV = _planes(workspace, "cols", C, dM.shape[2], dM.dtype)
    U = transformed_weight(w) if U is None else U
    gemm.matmul(U.transpose(0, 2, 1), dM, dV)
    grad_x = np.empty(x_shape, dM.dtype)
    WG.input_transform_adjoint(grad_x, dV_full, *padding)
    return grad_x
