"""Batch-1 inference convolutions: a plan kept per convolution, its Winograd weight transform
kept with it, and the algorithm chosen for one image.

At batch 1 every convolution of a ResNet-18 forward is small, and what a call costs on top of
its products is a visible share of the latency: building a ``_Plan`` (tap trimming, the
algorithm decision), recomputing the Winograd-transformed weight ``U`` (weight_transform43 was
2.6 ms of a 70 ms forward), and the Function machinery. Here a plan is kept per convolution
and input shape and reused while the weight's array and version are the same (the fold's
rule in ``nn.fuse``: optimizers, ``load_state_dict`` and in-place ops on the Parameter move the
version; a write through ``weight.data`` or a numpy view does not, as in PyTorch, and a kept
Winograd transform would then be stale).

The algorithm for one image differs from the batched one in one place: a 3x3 stride-1
convolution of 256x256 channels on 14x14 (ResNet-18's layer3) runs F(2x2, 3x3) Winograd on
its 49 tiles with ``U`` kept (4 MiB), measured 2.3x less CPU time than im2col plus one GEMM
(11.2 ms against 4.9 ms under load 12); the batched rule sends it to im2col because it would
recompute ``U`` every call. Larger weights (layer4's 512x512: a 16.8 MiB ``U`` for a 9.4 MiB
weight) stay im2col and keep nothing.
"""
import weakref

from ..autograd.function import Function
from ..kernels import batch1 as K
from . import conv as conv_ops
from . import conv_dense
from . import conv_winograd as WG

__all__ = ["plan_for", "conv2d", "ConvolutionBatch1", "KEEP_U_BYTES"]

# The largest transformed weight a batch-1 plan keeps; larger Winograd weights are transformed
# on each call, and (see _choose) large ones at batch 1 go to im2col instead.
KEEP_U_BYTES = 4 * 1024 * 1024
# F(2x2, 3x3) at batch 1 for 3x3 weights up to this many channel pairs (see the docstring)
_WINOGRAD_BATCH1_MAX = 256 * 256

_plans = weakref.WeakKeyDictionary()  # conv module -> (key, _Plan)


def _key(conv, x_shape, w):
    return (x_shape, id(w), conv.weight._version, conv.stride, conv.padding, conv.dilation,
            conv.groups)


def plan_for(conv, x_shape):
    """The kept ``_Plan`` of ``conv`` (an ``nn.Conv2d``) for one image of ``x_shape``, rebuilt
    when the weight is replaced or changed in place."""
    w = conv.weight._data
    key = _key(conv, x_shape, w)
    cached = _plans.get(conv)
    if cached is not None and cached[0] == key:
        return cached[1]
    plan = conv_ops._Plan(x_shape, w, conv.stride, conv.padding, conv.dilation, conv.groups)
    _choose(plan, x_shape)
    if plan.winograd:
        U_bytes = plan.planes * plan.weight.shape[0] * plan.weight.shape[1] * w.itemsize
        if U_bytes <= KEEP_U_BYTES:
            plan.U = WG.weight_transform(plan.weight, plan.planes)
    elif plan.dense is not None:
        plan.D = conv_dense.dense_matrix(plan.weight, plan.dense)
    _plans[conv] = (key, plan)
    return plan


def _choose(plan, x_shape):
    """Switch ``plan`` to F(2x2, 3x3) where one image's products favour it (see the module
    docstring); leave every other decision to ``_Plan``."""
    if plan.winograd or plan.taps is not None or plan.dense is not None:
        return
    O, C, KH, KW = plan.weight.shape
    if not WG.use_winograd(x_shape, plan.weight.shape, plan.stride, plan.dilation, plan.groups,
                           plan.weight.dtype):
        return  # not a 3x3 stride-1 ungrouped convolution of enough channels
    if O * C <= _WINOGRAD_BATCH1_MAX:
        plan.winograd, plan.planes = True, 16


class _Context:
    """The ctx ``ConvolutionBatch1.forward`` is called with (nothing is recorded: no node)."""


_CTX = _Context()


class ConvolutionBatch1(Function):
    """One image's convolution on a kept plan, with an optional eval-BatchNorm, residual and
    ReLU epilogue. Never recorded: ``conv2d`` calls its forward directly, without ``apply``'s
    graph bookkeeping; it is a Function so that ``utils.profile.OpProfiler`` times it as an op
    (and its kernels and products inside it)."""

    node_name = "ConvolutionBatch1"

    @staticmethod
    def forward(ctx, x, plan, b, affine, res, relu):
        out = conv_ops._run(plan, x, plan.transform(), b)
        if affine is not None:
            y2 = out.reshape(out.shape[1], -1)
            res2 = y2[:0] if res is None else res.reshape(y2.shape)
            # chosen here, through the module, so that the profiler sees which one ran
            kernel = K.bn_residual_relu_serial_ if y2.size < K.SERIAL_BELOW \
                else K.bn_residual_relu_
            kernel(y2, *affine, res2, res is not None, bool(relu))
        return out


def conv2d(conv, x, affine=None, res=None, relu=False, plan=None):
    """``conv``'s convolution of the C-contiguous ndarray ``x`` (1, C, H, W), nothing recorded:
    an ndarray (1, O, OH, OW). With ``affine`` (an eval BatchNorm's (mean, invstd, weight,
    bias) for ``kernels.batch1``), ``relu(bn(conv(x)) + res)`` in one pass over the output
    (``res``: a C-contiguous array of the output's shape, or None). ``plan``: ``plan_for(conv,
    x.shape)`` when the caller has it already."""
    if plan is None:
        plan = plan_for(conv, x.shape)
    b = None if conv.bias is None else conv.bias._data
    return ConvolutionBatch1.forward(_CTX, x, plan, b, affine, res, relu)
