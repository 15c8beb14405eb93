"""2-d convolution as numba im2col plus ONE BLAS product over the whole batch.

Forward: ``cols = im2col(x)`` (C*KH*KW, N*P), then ``W @ cols`` (a channel-major product, made
NCHW by ``swap01``; the RGB stems take channels-last columns and a pixel-major product instead,
``conv_nhwc``, and outputs of one pixel per image ``cols.T @ W.T``, already NCHW). Measured
with OpenBLAS's AVX-512 kernels on an AMD EPYC, the pixel-major ``cols.T @ W.T`` was as fast
or 30-45% slower at every ResNet-18 shape (layer4's stride-2 conv at batch 16: 4.8 against 6.5
ms), before its costlier copy to NCHW. Backward: the output
gradient made channel-major, ``grad_w = g @ cols.T`` (cols recomputed from the saved input
rather than kept, which would cost ~100 MB per early ResNet layer), ``grad_cols = W.T @ g`` and
``col2im``, over slices of the batch as the forward; each is skipped when its input needs no
gradient.
"""
import contextlib
import math
import threading

import numpy as np

from ..autograd.function import Function
from ..kernels import activation as A
from ..kernels import conv as K
from ..kernels import gemm
from ..kernels import pool as pool_kernels
from . import conv_transpose as CT  # (its ops use this module's only inside calls)
from . import conv_dense as DENSE
from . import conv_im2col_pipeline as PIPE
from . import conv_nhwc as NHWC
from . import conv_taps as TAPS
from . import conv_winograd as WG
from .adjoint import tie_to_inputs
from .conv_winograd_grad import winograd_backward

__all__ = ["Convolution", "conv2d_output_shape", "prepare_inference", "conv2d_inference",
           "pool_geometry", "takes_dense", "forward_once", "in_forward_once", "KEEP_U_BYTES"]

_scratch = threading.local()
_once = threading.local()   # see forward_once

# the forward's im2col columns (or Winograd-transformed input) are built for this many bytes of
# the batch at a time
_COLS_BYTES = 16 * 1024 * 1024
# one image's columns above this size are made a band of output rows at a time: at batch 1
# the stem's (7.4 MB at 224x224) were the largest scratch array of an inference run, and
# bands of ~2 MB keep the products as fast (each is still 64 x 147 x 3000+)
_BAND_BYTES = 2 * 1024 * 1024


@contextlib.contextmanager
def forward_once():
    """Inside (this thread): each convolution's forward is taken to run once on its inputs, as
    a feature cache's fill does, and F(2x2, 3x3) Winograd transforms its input and output with
    the serial twins of its kernels (``kernels/twin.py``), bitwise the same numbers.

    The parallel transforms cost about twice the compile time of their twins (19 CPU s
    against 9), which one pass over the digits job's images cannot win back; at the sizes of
    a frozen digits backbone the twins take as little CPU time (the products stay parallel).
    Training and inference that runs again and again keep the parallel kernels.
    """
    before = getattr(_once, "active", False)
    _once.active = True
    try:
        yield
    finally:
        _once.active = before


def in_forward_once() -> bool:
    """Whether this thread is inside ``forward_once()``."""
    return getattr(_once, "active", False)


def _workspace(name: str, shape: tuple, dtype) -> np.ndarray:
    """A reusable per-thread scratch array (contents undefined).

    The im2col buffers reach ~120 MB at ResNet's first layers; a fresh allocation of that size is
    returned to the OS on free and page-faulted in again on every call, which costs as much as the
    im2col itself. Scratch never escapes a Function call, so reuse is safe. Two buffers serve
    everything: "cols" (im2col, later the input-gradient columns) and "prod" (the GEMM product,
    later the channel-major output gradient), which keeps ~350 MB of scratch down to ~170 MB.
    """
    size = math.prod(shape)  # (np.prod costs ~5 us a call: 30 calls per batch-1 forward)
    key = (name, np.dtype(dtype).str)
    pool = _scratch.__dict__.setdefault("pool", {})
    buf = pool.get(key)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype)
        pool[key] = buf
    return buf[:size].reshape(shape)


def conv2d_output_shape(x_shape, w_shape, stride, padding, dilation):
    """(N, O, OH, OW) of a convolution, PyTorch's formula."""
    N, _, H, W = x_shape
    O, _, KH, KW = w_shape
    OH = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (W + 2 * padding[1] - dilation[1] * (KW - 1) - 1) // stride[1] + 1
    return N, O, OH, OW


def _geometry(ctx):
    (SH, SW), (PH, PW), (DH, DW) = ctx.stride, ctx.padding, ctx.dilation
    return SH, SW, PH, PW, DH, DW


def _algorithm(x_shape, w_shape, stride, padding, dilation, groups, dtype=np.float32):
    """(taps, winograd, planes, dense) of a convolution: the kernel taps kept (None: all),
    whether it takes Winograd and with how many planes (0: not), and the dense product's tap
    table (``conv_dense``, None: not taken; it reads the whole kernel, untrimmed)."""
    O = w_shape[0]
    out_hw = conv2d_output_shape(x_shape, w_shape, stride, padding, dilation)[2:]
    taps = TAPS.live_taps(x_shape, w_shape, stride, padding, dilation, out_hw)
    shape = w_shape if taps is None else (O, w_shape[1]) + tuple(b - a for a, b in taps)
    winograd = WG.use_winograd(x_shape, shape, stride, dilation, groups, dtype, out_hw)
    planes = WG.forward_planes(x_shape[1], O, *out_hw, small_maps=True, images=x_shape[0]) \
        if winograd else 0
    products = WG.products(planes, *out_hw) if winograd else None
    if DENSE.use_dense(x_shape, w_shape, groups, out_hw, shape[2] * shape[3], products, dtype):
        return None, False, 0, DENSE.tap_table(x_shape, w_shape, stride, padding, dilation,
                                               out_hw)
    return taps, winograd, planes, None


def takes_dense(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether the convolution of these shapes runs as one dense product (``conv_dense``)."""
    return _algorithm(x_shape, w_shape, stride, padding, dilation, groups)[3] is not None


class _Plan:
    """How one convolution runs (``_algorithm``): the kernel taps kept (``conv_taps.live_taps``),
    the weight and padding after trimming, and Winograd (with its planes), the dense product
    (``dense``: its tap table) or im2col. Duck-types the Function's ctx for ``_geometry`` and
    ``_forward_im2col``. ``U``: Winograd's transformed weight when kept (else made per call,
    into scratch); ``D``: the dense product's matrix when kept; ``scale``: per-output-channel
    factors (float64) the weight is multiplied by before its transform (a folded BatchNorm, see
    ``prepare_inference``); ``per_call``: ``U`` is made on each call even for a read-only weight."""

    __slots__ = ("taps", "weight", "stride", "padding", "dilation", "groups", "winograd",
                 "planes", "out_shape", "U", "scale", "per_call", "dense", "D", "nhwc")

    def __init__(self, x_shape, w, stride, padding, dilation, groups):
        self.out_shape = N, O, OH, OW = conv2d_output_shape(x_shape, w.shape, stride, padding,
                                                            dilation)
        self.stride, self.dilation, self.groups = stride, dilation, groups
        self.U = self.scale = self.D = None
        self.per_call = False
        self.taps, self.winograd, self.planes, self.dense = _algorithm(
            x_shape, w.shape, stride, padding, dilation, groups, w.dtype)
        # im2col with channels-last columns (ops.conv_nhwc): the RGB stems
        self.nhwc = not self.winograd and self.dense is None and N > 1 and NHWC.use_nhwc(
            x_shape, w.shape, stride, dilation, groups)
        if self.taps is not None:  # a smaller kernel computes the same (conv_taps.live_taps)
            w = TAPS.trimmed_weight(w, self.taps)
            padding = TAPS.trimmed_padding(padding, dilation, self.taps)
        self.weight, self.padding = w, padding

    def transform(self):
        """Winograd's ``U`` when it is kept: the plan's, or (``conv_winograd.transformed_weight``)
        that of a read-only weight; None otherwise (im2col, or ``_run`` makes it per call)."""
        if self.U is None and self.winograd and not self.per_call and WG.is_frozen(self.weight):
            return WG.transformed_weight(self.weight, self.planes)
        return self.U


class Convolution(Function):
    """``conv2d(x, w, b)`` with pairs ``stride``, ``padding``, ``dilation`` and ``groups``; on
    conv1d's (N, C, L) input and (O, C, K) weight it runs on their height-1 views (the pairs'
    first entries (1, 0, 1)), so conv1d's node is torch's ``ConvolutionBackward0`` too."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, *, stride, padding, dilation, groups):
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            out = Convolution._forward(ctx, x[:, :, None], w[:, :, None], b, stride, padding,
                                       dilation, groups)
            return out[:, :, 0]
        return Convolution._forward(ctx, x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def _forward(ctx, x, w, b, stride, padding, dilation, groups):
        x = np.ascontiguousarray(x)
        ctx.save_for_backward(x, w)
        plan = _Plan(x.shape, w, stride, padding, dilation, groups)
        if plan.dense is not None and not DENSE.finite(x):
            plan.dense = None   # im2col on the untrimmed weight (conv_dense.finite)
        ctx.taps, ctx.winograd, ctx.dense = plan.taps, plan.winograd, plan.dense
        ctx.nhwc = plan.nhwc
        if plan.dense is not None:
            plan.D = DENSE.dense_matrix(w, plan.dense)
        # the backward's input gradient takes the same matrix (see KEEP_U_FOR_BACKWARD)
        ctx.D = plan.D if plan.D is not None and plan.D.nbytes <= KEEP_U_FOR_BACKWARD else None
        # the trimmed copy, for the backward: making it reads the whole weight again (layer4's
        # 9.4 MB, four times per step at 32x32 input); the saved weight's version check still
        # guards against an in-place change in between
        ctx.trimmed = plan.weight if plan.taps is not None else None
        ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, plan.padding, dilation, \
            groups
        U = plan.transform()
        if plan.winograd and plan.planes == 16 and U is None and \
                16 * w.shape[0] * w.shape[1] * w.itemsize <= KEEP_U_FOR_BACKWARD:
            U = WG.weight_transform(plan.weight, 16)
        # the input gradient's F(2x2, 3x3) product takes the same transform (see _run for why
        # larger ones are not kept)
        ctx.U = U if plan.winograd and plan.planes == 16 else None
        return _run(plan, x, U, b, x_finite=plan.dense is not None)

    @staticmethod
    def backward(ctx, grad_out):
        if not getattr(ctx, "one_d", False):
            return Convolution._backward_2d(ctx, grad_out)
        grad_x, grad_w, grad_b = Convolution._backward_2d(ctx, grad_out[:, :, None])
        return (None if grad_x is None else grad_x[:, :, 0],
                None if grad_w is None else grad_w[:, :, 0], grad_b)

    @staticmethod
    def _backward_2d(ctx, grad_out):
        x, w_full = ctx.saved_tensors
        if ctx.dense is not None and DENSE.finite(grad_out):
            need_x, need_w, need_b = ctx.needs_input_grad
            D = ctx.D if ctx.D is not None or not need_x else \
                DENSE.dense_matrix(w_full, ctx.dense)
            grad_x, grad_w = DENSE.dense_backward(x, w_full.shape, D, ctx.dense, grad_out,
                                                  need_x, need_w)
            return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3)) if need_b else None
        w = w_full if ctx.taps is None else ctx.trimmed
        grad_x, grad_w, grad_b = Convolution._backward(ctx, x, w, grad_out)
        if grad_w is not None and ctx.taps is not None:
            # the dead taps never met a real input element: their gradient is exactly zero
            (ah, bh), (aw, bw) = ctx.taps
            full = np.zeros(w_full.shape, grad_w.dtype)
            full[:, :, ah:bh, aw:bw] = grad_w
            grad_w = full
        return grad_x, grad_w, grad_b

    @staticmethod
    def backward_graph(ctx, grad_out):
        """The gradients as recorded ops (``conv_transpose``'s), with the untrimmed kernel."""
        x, w = ctx.saved_tensors
        one_d = getattr(ctx, "one_d", False)
        need_x, need_w, need_b = ctx.needs_input_grad
        padding = ctx.padding
        if ctx.taps is not None:
            (ah, _), (aw, _) = ctx.taps
            padding = padding[0] + ah * ctx.dilation[0], padding[1] + aw * ctx.dilation[1]
        geo = dict(stride=ctx.stride, padding=padding, dilation=ctx.dilation, groups=ctx.groups)
        if one_d:   # the height-1 views of conv1d's tensors, as Tensors with their history
            grad_out = grad_out.unsqueeze(2)
            saved_x = ctx.saved_input(0, x[:, :, 0]).unsqueeze(2) if need_w else None
            saved_w = ctx.saved_input(1, w[:, :, 0]).unsqueeze(2) if need_x else None
        else:
            saved_x = ctx.saved_input(0, x) if need_w else None
            saved_w = ctx.saved_input(1, w) if need_x else None
        grad_b = grad_out.sum(dim=(0, 2, 3)) if need_b else None
        grad_w = CT.ConvWeightGrad.apply(saved_x, grad_out, w_shape=w.shape,
                                         **geo) if need_w else None
        grad_x = CT.ConvInputGrad.apply(grad_out, saved_w, None,
                                        out_hw=x.shape[2:], **geo) if need_x else None
        if one_d:
            grad_w = None if grad_w is None else grad_w.squeeze(2)
            grad_x = None if grad_x is None else grad_x.squeeze(2)
        if ctx._fn is not Convolution:   # (CT.ConvGrad: part of a composed double backward)
            return grad_x, grad_w, grad_b
        return tie_to_inputs(ctx, (grad_x, grad_w, grad_b), inputs=(0, 1))

    @staticmethod
    def _backward(ctx, x, w, grad_out):
        if ctx.winograd:
            return _winograd_backward(ctx, x, w, grad_out)
        need_x, need_w, need_b = ctx.needs_input_grad
        N, O, OH, OW = grad_out.shape
        P = OH * OW
        g = np.ascontiguousarray(grad_out).reshape(N, O, P)
        nhwc = getattr(ctx, "nhwc", False)
        if nhwc and not need_x:  # an RGB stem: the weight gradient only
            grad_w = NHWC.grad_weight(_workspace, x, w.shape, g, ctx.padding,
                                      ctx.stride) if need_w else None
            return None, grad_w, g.sum(axis=(0, 2)) if need_b else None
        if not nhwc and PIPE.pipelined(N, ctx.groups, P, g.dtype):
            grad_x, grad_w = PIPE.backward(_workspace, _geometry(ctx), x, w, g, need_x, need_w)
            return grad_x, grad_w, g.sum(axis=(0, 2)) if need_b else None
        # channel-major (O, N*P) whatever the forward's orientation: all backward GEMM
        # orientations measured within noise of each other, and swap01 is the cheaper copy
        g2 = _workspace("prod", (O, N, P), g.dtype)
        K.swap01(g2, g, WG.empty(g.dtype, 1), WG.empty(g.dtype, 3), False)
        g2 = g2.reshape(O, N * P)
        grad_b = g.sum(axis=(0, 2)) if need_b else None
        grad_w = _grad_weight(ctx, x, w, g2) if need_w else None
        grad_x = _grad_input(ctx, x, w, g2) if need_x else None
        return grad_x, grad_w, grad_b


def _run(plan, x, U, b, res=None, relu=False, pool=None, x_finite=False):
    """The forward of ``plan`` on ``x`` (C-contiguous), with ``U = plan.transform()``: the
    convolution plus ``b``, then (the inference path's epilogue) ``+ res`` and ReLU inside the
    last pass over each output, and a max-pool ``pool`` (``_pool_geometry``) per batch slice,
    so the unpooled activation never exists whole (the stem's is 51 MB at batch 16, 205 MB at
    batch 64). ``x_finite``: the caller has checked ``x`` for the dense product
    (``conv_dense.finite``)."""
    N, O, OH, OW = plan.out_shape
    C, itemsize = x.shape[1], x.dtype.itemsize
    if plan.dense is not None and (x_finite or DENSE.finite(x)):  # (else im2col, untrimmed)
        D = plan.D if plan.D is not None else DENSE.dense_matrix(plan.weight, plan.dense)
        out = DENSE.dense_forward(np.empty(plan.out_shape, x.dtype), x, D, b, res, relu)
        if pool is not None:
            pooled = np.empty((N, O) + pool[-2:], x.dtype)
            pool_kernels.max_pool2d_forward_values(pooled, out, *pool[:-2])
            out = pooled
        return out
    if plan.winograd and U is None:
        # made per call into a fresh array (layer4's F(4x4, 3x3) U: 37.7 MB, mmapped and given
        # back at once): kept scratch would add its size to the peak, measured (e64) 573 -> 609
        # MiB and (a) 727 -> 769; the page faults cost a few ms per step
        U = WG.weight_transform(plan.weight, plan.planes, plan.scale)
    if U is not None:
        per_image = WG.input_bytes_per_image(C, O, OH, OW, itemsize)
    else:
        KH, KW = plan.weight.shape[2:]
        per_image = C * KH * KW * OH * OW * itemsize
    if pool is None:
        out = np.empty((N, O, OH, OW), x.dtype)
    else:
        out = np.empty((N, O) + pool[-2:], x.dtype)
    if U is not None and pool is None and WG.pipelined(N, C, O, U.shape[0],
                                                       WG.tiles_per_image(U.shape[0], OH, OW)):
        WG.forward_pipelined(_workspace, out, x, U, plan.padding, b, res, relu)
        return out
    if plan.nhwc:   # (a batch only) slices, each on one thread (ops.conv_nhwc.forward)
        NHWC.forward(_workspace, out, x, plan.weight, plan.padding, plan.stride,
                     _epilogue_bias(b, x.dtype), _epilogue_res(res, x.dtype), relu, pool)
        return out
    if U is None and pool is None and PIPE.pipelined(N, plan.groups, OH * OW, x.dtype):
        res3 = WG.empty(x.dtype, 3) if res is None else res.reshape(N, O, OH * OW)
        PIPE.forward(_workspace, _geometry(plan), out, x, plan.weight, _epilogue_bias(b, x.dtype),
                     res3, relu)
        return out
    # over slices of the batch whose scratch fits in _COLS_BYTES: same speed (the GEMMs stay
    # large), a fraction of the scratch (the stem's im2col columns are 118 MB at batch 16)
    step = max(1, min(N, _COLS_BYTES // max(1, per_image)))  # (0: an empty output)
    for n0 in range(0, N, step):
        n1 = min(N, n0 + step)
        x_n, res_n = x[n0:n1], None if res is None else res[n0:n1]
        if pool is not None and _pool_first(U, res):
            _forward_im2col_pooled(plan, out[n0:n1], x_n, b, relu, pool)
            continue
        y_n = out[n0:n1] if pool is None else _workspace("stage", (n1 - n0, O, OH, OW), x.dtype)
        if U is not None:
            WG.winograd_forward(_workspace, y_n, x_n, U, plan.padding, b, res_n, relu,
                                serial=in_forward_once())
        else:
            _forward_im2col(plan, y_n, x_n, plan.weight, b, res_n, relu)
        if pool is not None:
            pool_kernels.max_pool2d_forward_values(out[n0:n1], y_n, *pool[:-2])
    return out


def _pool_first(U, res) -> bool:
    """Whether the max-pool may run on the raw channel-major product, before the bias and the
    ReLU: both are monotone per channel (rounding included), so ``max(relu(v + b))`` is
    ``relu(max(v) + b)`` bitwise, and the epilogue and the copy to NCHW then touch a quarter
    of the elements (the stem's pool is 3x3 stride 2)."""
    return U is None and res is None


# A frozen Winograd plan keeps its transformed weight up to this size; a larger one is made on
# each call from the weight the plan holds anyway (see _run). ResNet-18's layer4 (F(2x2, 3x3):
# 16 MiB each) and a batch of 32 or more's layer3 (F(4x4, 3x3): 9 MiB) are the larger ones:
# keeping them held 84 MiB for a frozen backbone, against about 5 ms a step at batch 16 to make
# them (README, "Peak memory").
KEEP_U_BYTES = 4 * 1024 * 1024
# A training forward keeps an F(2x2, 3x3) transform up to this size for its backward's input
# gradient, instead of making it twice (a few MB per step in all at 32x32 input)
KEEP_U_FOR_BACKWARD = 4 * 1024 * 1024


def prepare_inference(x_shape, w, stride, padding, dilation, groups, transforms=None,
                      scale=None):
    """A ``_Plan`` for ``conv2d_inference`` of a fixed weight ``w`` (times ``scale[o]`` per
    output channel when given: ``conv_winograd.scaled_weight``, a folded BatchNorm) on inputs of
    ``x_shape``. A Winograd plan keeps the transformed weight ``U`` (up to ``KEEP_U_BYTES``) and
    not the weight (a frozen backbone then holds the transform only, not a folded weight too);
    a larger ``U`` is made per call from ``w`` and ``scale`` (no folded copy either); an im2col
    plan keeps the scaled weight. ``transforms`` (a dict) shares ``U`` between plans of one
    weight that agree on it."""
    plan = _Plan(x_shape, w, stride, padding, dilation, groups)
    if not plan.winograd:
        if scale is not None:
            plan.weight = WG.scaled_weight(plan.weight, scale)
        if plan.dense is not None:
            plan.D = DENSE.dense_matrix(plan.weight, plan.dense)
        return plan
    O, C = plan.weight.shape[:2]
    if plan.planes == 36 and 16 * O * C * plan.weight.itemsize <= KEEP_U_BYTES < \
            36 * O * C * plan.weight.itemsize and x_shape[0] < 32:
        # below batch 32 a kept F(2x2, 3x3) transform beats making F(4x4, 3x3)'s on every call
        plan.planes = 16
    if plan.planes * O * C * plan.weight.itemsize > KEEP_U_BYTES:
        plan.scale = None if scale is None else np.asarray(scale, np.float64)
        plan.per_call = True
        return plan
    transforms = {} if transforms is None else transforms
    key = (plan.planes, plan.taps)
    if key not in transforms:
        transforms[key] = WG.weight_transform(plan.weight, plan.planes, scale)
    plan.U, plan.weight = transforms[key], None
    return plan


def conv2d_inference(plan, x, b=None, res=None, relu=False, pool=None):
    """``max_pool(relu(conv2d(x, w, b) + res))`` as ndarrays, nothing recorded, each optional
    step fused into the convolution's last pass (``plan`` from ``prepare_inference``).

    For the no-graph paths only (inference, a frozen backbone): the fused ReLU keeps no mask
    for a backward. ``res``: an array of the convolution's output shape; ``pool``:
    ``pool_geometry(...)`` of a max-pool. Each element is computed as the separate ops would
    (the same float operations in the same order): bitwise the unfused result.
    """
    x = np.ascontiguousarray(x)
    if res is not None:
        res = np.ascontiguousarray(res, x.dtype)
    return _run(plan, x, plan.transform(), b, res, relu, pool)


def pool_geometry(kernel, stride, padding, dilation, out_hw):
    """The max-pool argument of ``conv2d_inference`` from (h, w) pairs: (KH, KW, SH, SW, PH,
    PW, DH, DW, OH, OW)."""
    return (*kernel, *stride, *padding, *dilation, *out_hw)


def _forward_im2col(ctx, out, x, w, b=None, res=None, relu=False):
    """``out`` (N, O, OH, OW) = the convolution of ``x`` by im2col and one GEMM, plus ``b``
    (O,), ``res`` (shaped like ``out``) and ReLU when given, in the copy to NCHW."""
    N, O = out.shape[:2]
    P = out.shape[2] * out.shape[3]
    out4, out = out, out.reshape(N, O, P)  # a view: ``out`` is a slice of a C-contiguous array
    KH, KW = w.shape[2], w.shape[3]
    Kdim = x.shape[1] * KH * KW
    w2 = w.reshape(O, -1)
    if N == 1 and Kdim * P * x.dtype.itemsize > _BAND_BYTES:
        cols = None  # made band by band (_banded_matmul)
    else:
        cols = _workspace("cols", (Kdim, N * P), x.dtype)
        K.im2col(cols, x, KH, KW, *_geometry(ctx))
    bias = _epilogue_bias(b, x.dtype)
    res3 = WG.empty(x.dtype, 3) if res is None else res.reshape(N, O, P)
    if ctx.groups == 1 and N > 1 and P == 1:
        # one output pixel per image (ResNet's layer4 at 32x32 input): the pixel-major
        # product (N, O) is NCHW already, where the channel-major one's copy would move one
        # number per (image, channel); the copy left is only the epilogue's pass
        prod = _workspace("prod", (N, O), x.dtype)
        gemm.matmul(cols.T, w2.T, prod)
        K.transpose12_for(out)(out, prod.reshape(N, 1, O), bias, res3, relu)
    elif N == 1:  # (O, 1, P) is already NCHW: the GEMM writes the output directly
        if cols is None:
            _banded_matmul(ctx, out4, x, w)
        else:
            _grouped_matmul(out.reshape(O, P), w2, cols, ctx.groups)
        if b is not None:
            out += bias.reshape(1, O, 1)
        if res is not None:
            out += res3
        if relu:
            A.relu_forward(out.reshape(-1), out.reshape(-1))
    else:
        prod = _workspace("prod", (O, N * P), x.dtype)
        _grouped_matmul(prod, w2, cols, ctx.groups)
        K.swap01(out, prod.reshape(O, N, P), bias, res3, relu)


def _banded_matmul(ctx, out, x, w):
    """``out`` (1, O, OH, OW) = ``w @ im2col(x)`` for one image, over bands of output rows whose
    columns fit in ``_BAND_BYTES``, each band's product written into its own columns of ``out``:
    each element is the same BLAS dot product as from the whole image's columns."""
    O, _, KH, KW = w.shape
    OH, OW = out.shape[2:]
    out2, w2 = out.reshape(O, OH * OW), w.reshape(O, -1)
    Kdim = x.shape[1] * KH * KW
    rows = max(1, _BAND_BYTES // (Kdim * OW * x.dtype.itemsize))
    for r0 in range(0, OH, rows):
        r1 = min(OH, r0 + rows)
        band = _workspace("cols", (Kdim, (r1 - r0) * OW), x.dtype)
        K.im2col_rows(band, x, KH, KW, *_geometry(ctx), r0)
        _grouped_matmul(out2[:, r0 * OW:r1 * OW], w2, band, ctx.groups)


def _epilogue_bias(b, dtype):
    """``b`` as the layout kernels' epilogue takes it: (O,) in ``dtype``, or empty for none."""
    return WG.empty(dtype, 1) if b is None else np.ascontiguousarray(b, dtype)


def _epilogue_res(res, dtype):
    """``res`` (N, O, OH, OW) as the layout kernels' epilogue takes it: (N, O, OH*OW), or
    empty for none."""
    return WG.empty(dtype, 3) if res is None else res.reshape(res.shape[0], res.shape[1], -1)


def _forward_im2col_pooled(plan, out, x, b, relu, pool):
    """``out`` = max-pool ``pool`` of ``relu(conv(x) + b)``, the pool run on the channel-major
    GEMM product (see ``_pool_first``), the bias and ReLU in the pooled copy to NCHW."""
    N, O, PH, PW = out.shape
    OH, OW = plan.out_shape[2:]
    w = plan.weight
    KH, KW = w.shape[2], w.shape[3]
    cols = _workspace("cols", (x.shape[1] * KH * KW, N * OH * OW), x.dtype)
    K.im2col(cols, x, KH, KW, *_geometry(plan))
    prod = _workspace("prod", (O, N * OH * OW), x.dtype)
    _grouped_matmul(prod, w.reshape(O, -1), cols, plan.groups)
    pooled = _workspace("stage", (O, N, PH * PW), x.dtype)
    # the (o, n) planes of the product are independent pooling planes
    pool_kernels.max_pool2d_forward_values(pooled.reshape(1, O * N, PH, PW),
                                           prod.reshape(1, O * N, OH, OW), *pool[:-2])
    bias = _epilogue_bias(b, x.dtype)
    K.swap01(out.reshape(N, O, PH * PW), pooled, bias, WG.empty(x.dtype, 3), relu)


def _winograd_backward(ctx, x, w, grad_out):
    need_x, need_w, need_b = ctx.needs_input_grad
    grad_b = grad_out.sum(axis=(0, 2, 3)) if need_b else None
    if not (need_x or need_w):
        return None, None, grad_b
    grad_x, grad_w = winograd_backward(_workspace, x, w, grad_out, ctx.padding, need_x, need_w,
                                       _batch_slices, ctx.U)
    return grad_x, grad_w, grad_b


def _grouped_matmul(out, a, b, groups):
    """``out = a @ b`` block-diagonally: group g's rows of ``a`` meet group g's rows of ``b``."""
    if groups == 1:
        gemm.matmul(a, b, out)
        return
    Og, Kg = a.shape[0] // groups, b.shape[0] // groups
    for i in range(groups):
        gemm.matmul(a[i * Og:(i + 1) * Og], b[i * Kg:(i + 1) * Kg],
                    out[i * Og:(i + 1) * Og])


def _batch_slices(N, bytes_per_image):
    """Slices of the batch whose im2col columns fit in ``_COLS_BYTES`` (at least one image)."""
    step = max(1, min(N, _COLS_BYTES // max(1, bytes_per_image)))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


def _grad_weight(ctx, x, w, g2):
    """``grad_w = g @ cols.T`` per group, with cols recomputed from the saved input, over slices
    of the batch (the stem's whole-batch columns at batch 16 and 224x224 would be 118 MB of
    scratch; the slices' partial products are summed)."""
    O, Cg, KH, KW = w.shape
    N, C = x.shape[:2]
    if N == 0:  # an empty batch: no window met the weight (torch's zeros)
        return np.zeros(w.shape, x.dtype)
    P = g2.shape[1] // N
    if getattr(ctx, "nhwc", False):
        g = g2.reshape(O, N, P).transpose(1, 0, 2)   # (an input gradient is wanted too)
        return NHWC.grad_weight(_workspace, x, w.shape, g, ctx.padding, ctx.stride)
    slices = _batch_slices(N, C * KH * KW * P * x.dtype.itemsize)
    G = ctx.groups
    Og, Kg = O // G, Cg * KH * KW
    # allocated in the weight's shape and filled through a 2-d view, so the array returned owns
    # its memory and AccumulateGrad can adopt it without a copy
    grad_w = np.empty(w.shape, x.dtype)
    gw2 = grad_w.reshape(O, Kg)
    part = np.empty_like(gw2) if len(slices) > 1 else gw2
    for n0, n1 in slices:
        cols = _workspace("cols", (C * KH * KW, (n1 - n0) * P), x.dtype)
        K.im2col(cols, x[n0:n1], KH, KW, *_geometry(ctx))
        g = g2[:, n0 * P:n1 * P]
        target = gw2 if n0 == 0 else part
        for i in range(G):
            gemm.matmul(g[i * Og:(i + 1) * Og], cols[i * Kg:(i + 1) * Kg].T,
                        target[i * Og:(i + 1) * Og])
        if n0:
            gw2 += part
    return grad_w


def _grad_input(ctx, x, w, g2):
    """``grad_cols = W.T @ g`` per group, folded back onto the input by ``col2im``, over the same
    slices of the batch as the weight gradient."""
    O, Cg, KH, KW = w.shape
    N = x.shape[0]
    if N == 0:  # an empty batch (a transposed convolution's input or output has no image)
        return np.zeros(x.shape, x.dtype)
    P = g2.shape[1] // N
    G = ctx.groups
    Og, Kg = O // G, Cg * KH * KW
    w2 = w.reshape(O, Kg)
    grad_x = np.empty(x.shape, x.dtype)
    for n0, n1 in _batch_slices(N, G * Kg * P * x.dtype.itemsize):
        # the cols buffer is free again once the weight gradient is done (it always runs first)
        grad_cols = _workspace("cols", (G * Kg, (n1 - n0) * P), x.dtype)
        g = g2[:, n0 * P:n1 * P]
        for i in range(G):
            gemm.matmul(w2[i * Og:(i + 1) * Og].T, g[i * Og:(i + 1) * Og],
                        grad_cols[i * Kg:(i + 1) * Kg])
        K.col2im(grad_x[n0:n1], grad_cols, KH, KW, *_geometry(ctx))
    return grad_x
