"""Process tuning for minitorch's kernels: explicit, made only when called.

``import minitorch`` changes nothing in the process. Without ``configure``, minitorch's own
products still run on its pool with BLAS limited to one thread for each of them, restored after
(``minitorch.kernels.gemm``), so a script that never calls it is not left with BLAS's threads
and numba's competing for the cores. A program that wants the settings minitorch was measured
with calls ``minitorch.runtime.configure()`` once, at its start (the CLI and the Trainer do):

* BLAS runs one thread per call, and minitorch's products run on its own pool of ``threads``
  Python threads (``minitorch.kernels.gemm``): independent pieces taken by whichever thread is
  free, so a core busy with other work slows a product down by its share only, where OpenBLAS's
  own threads wait for each other at every block. Note this also makes the program's own
  ``numpy`` products single-threaded.
* OpenBLAS runs its AVX-512 kernels on a CPU that has AVX-512 where it was left on its AVX2
  (Haswell) ones, by ``OPENBLAS_CORETYPE`` or by a CPU newer than its tables: products about
  twice as fast (``minitorch.kernels.blas_core``; ``blas_avx512=False`` keeps OpenBLAS's set).
* BLAS is warmed up with one mid-sized product: measured with numpy's OpenBLAS 0.3.31 limited
  to one thread, small products (e.g. 128x576 @ 576x196) run 3x slower, in the same kernel, until
  the process has made one product of more than ~25M multiply-adds; a model whose products are
  all small (a small CNN, an MLP) would never get there.
* numba's kernels run on ``threads`` threads, and its idle OpenMP threads spin only briefly
  before they sleep (``GOMP_SPINCOUNT=1000``, unless ``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY``
  is set): libgomp's default spin (300,000) steals the cores the products run on next
  (measured: im2col 2x slower right after a GEMM, far worse with a core busy), while sleeping
  at once (``OMP_WAIT_POLICY=PASSIVE``) pays a wake-up at each of a step's hundreds of kernel
  calls: at 32x32 input (torchvision's stem, batch 64) the step 74 -> 63 ms quiet, 89-107 ->
  101-115 ms with a core busy. This only takes effect if numba's thread pool has not started
  yet, hence "call it first".
* glibc keeps freed large blocks for reuse (``mallopt``): otherwise every activation of a step
  is page-faulted in again (measured at batch 16: ~14k faults, ~0.15 s of system time per
  ResNet-18 step; the step ~10% faster with it, peak RSS unchanged).

``warmup()`` compiles the kernels ahead of time (what ``minitorch-warmup`` runs);
``compile_if_cold(model=...)`` does so only on an empty cache, saying so, and only for the kernels
that model's training reaches (what ``minitorch-finetune`` runs).
"""
import ctypes
import os
import sys
from dataclasses import dataclass

__all__ = ["configure", "RuntimeSettings", "warmup", "compile_if_cold", "kernels_for",
           "tune_allocator", "set_num_threads", "get_num_threads"]


@dataclass(frozen=True)
class RuntimeSettings:
    threads: int            # numba's threads and the product pool's
    blas_threads: int       # BLAS threads per call (1 once configured)
    omp_spin_count: str | None  # GOMP_SPINCOUNT in effect (None: libgomp's, by the user's
    #                             OMP_WAIT_POLICY)
    allocator_tuned: bool   # glibc keeps freed large blocks
    blas_kernels: tuple = ()  # the kernel set of each OpenBLAS loaded (e.g. "SkylakeX")


_applied = {}
# libgomp's spin-wait iterations before an idle thread sleeps (a few tens of microseconds)
_OMP_SPIN_COUNT = "1000"


def configure(threads=None, *, allocator=True, blas_avx512=True) -> RuntimeSettings:
    """Apply minitorch's process settings (see the module docstring); safe to call again.
    Call it first, before other threads run numpy products.

    ``threads``: threads for numba's kernels and minitorch's products; by default numba's
    current count (the cores, or a rank's share under MPI). ``allocator=False`` leaves glibc's
    allocator alone; ``blas_avx512=False`` leaves OpenBLAS on the kernels it chose.
    """
    if threads is not None and int(threads) < 1:
        raise ValueError(f"configure: threads must be >= 1, got {threads}")
    # before numba's pool starts (get_num_threads below starts it): libgomp reads it then
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = _OMP_SPIN_COUNT
    import numba

    from .kernels import gemm
    n = min(int(threads or numba.get_num_threads()), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    kernels = _blas_kernels(blas_avx512)
    blas = _single_threaded_blas()
    gemm.set_num_threads(n if blas == 1 else 1)
    if not _applied.get("blas_warm"):
        _warm_blas()
        _applied["blas_warm"] = True
    tuned = _applied.get("allocator") or (allocator and tune_allocator())
    _applied["allocator"] = tuned
    return RuntimeSettings(threads=n, blas_threads=blas,
                           omp_spin_count=os.environ.get("GOMP_SPINCOUNT"),
                           allocator_tuned=bool(tuned), blas_kernels=kernels)


def set_num_threads(n) -> None:
    """``torch.set_num_threads``: run minitorch's kernels on ``n`` threads (numba's, and the
    product pool's once ``configure`` made BLAS single-threaded). Changes nothing else."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    import numba

    from .kernels import gemm
    n = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    if _applied.get("blas_warm"):  # configured: products run on the pool
        gemm.set_num_threads(n)


def get_num_threads() -> int:
    """``torch.get_num_threads``: the threads minitorch's kernels run on."""
    import numba

    return numba.get_num_threads()


def _single_threaded_blas() -> int:
    """Limit every loaded BLAS to one thread per call; the resulting count (0 if unknown)."""
    import numpy  # noqa: F401  (loads numpy's BLAS, so threadpoolctl can find it)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return 0
    # not a context manager: meant to last for the life of the process
    threadpool_limits(limits=1, user_api="blas")
    counts = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    return counts.pop() if len(counts) == 1 else 0


def _blas_kernels(avx512: bool) -> tuple:
    """The loaded OpenBLAS libraries' kernel sets, AVX-512 ones chosen first if ``avx512``."""
    import numpy  # noqa: F401  (loads numpy's BLAS)

    from .kernels import blas_core
    return tuple(blas_core.prefer_avx512() if avx512 else blas_core.core_names())


def _warm_blas() -> None:
    """Past OpenBLAS's single-thread slow start (``kernels.gemm.warm_blas``)."""
    from .kernels import gemm
    gemm.warm_blas()


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds, so freed large blocks stay in the heap for reuse;
    True if applied (False off glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl): leave the allocator alone
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    ok = libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # glibc's maximum on 64-bit
    return bool(ok and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))


def warmup(processes: int = 2, names=None) -> None:
    """Compile minitorch's training kernels (or those of ``names``) into numba's cache now, in
    ``processes`` processes."""
    from .kernels import warmup as _warmup
    if names is None:
        _warmup(processes)
    else:
        _warmup(processes, names)


def kernels_for(model, image_size=None, inference=False, feature_cache=False):
    """The kernel names training ``model`` reaches: the forward, loss and update kernels, plus
    the backward ones only when a parameter outside its Linear layers trains (a frozen backbone's
    backward stops at the head), and max-pooling only when the model has a MaxPool2d.

    A frozen backbone's F(4x4, 3x3) kernels and the parallel ``weight_transform`` are listed
    only for a model with 3x3 layers wide enough to reach them (``_wide_forward_names``; the
    digits job's width-16 model has none); otherwise its list has the serial twins, which small
    weights and copies take (``kernels/twin.py``). ``image_size``: the run's input side, if
    known. ``inference``: the eval forward's kernels only, as ``minitorch-predict`` and
    ``minitorch-evaluate`` run it (under ``ops.conv.forward_once``).
    ``feature_cache``: the run fills the trainer's feature cache, whose forward takes the serial
    twins of F(2x2, 3x3)'s transforms (``ops.conv.forward_once``).
    """
    from . import kernels, nn
    modules = list(model.modules())
    if inference:
        names = [n for n in kernels.HEAD_ONLY_NAMES if n not in _HEAD_TRAINING_NAMES]
        if any(isinstance(m, nn.MaxPool2d) for m in modules):
            names.append("max_pool2d_forward_values")
        # one image at a time (a single photo, the last one of a folder) takes kernels.batch1's
        names += ["im2col_rows", "bn_residual_relu_serial_", "bn_residual_relu_"]
        # (minitorch-predict and evaluate run their forward under ops.conv.forward_once)
        names += [n for n in _stem_names(modules) if n not in names]
        return _once_twins(names + _wide_forward_names(modules, image_size), True, True)
    names = list(kernels.HEAD_ONLY_NAMES)
    if any(isinstance(m, nn.MaxPool2d) for m in modules):
        names += kernels.MAX_POOL_NAMES
    if any(p.requires_grad for m in modules if not isinstance(m, nn.Linear)
           for p in m.parameters(recurse=False)):
        names += [n for n in kernels.KERNEL_NAMES if n not in names]
        return _once_twins(names, feature_cache, False)
    from .optim.sgd import SERIAL_BELOW
    if any(p.requires_grad and p.numel() >= SERIAL_BELOW for p in model.parameters()):
        names.append("sgd_update_")  # a large head (ImageNet's 1000 classes) updates in parallel
    names += [n for n in _stem_names(modules) if n not in names]
    return _once_twins(names + _wide_forward_names(modules, image_size), feature_cache, True)


def _stem_names(modules):
    """The channels-last kernels of a strided convolution of few input channels (an RGB stem on
    a batch, ``ops.conv_nhwc``), and their max-pool when the model has one."""
    from . import nn
    from .ops.conv_nhwc import use_nhwc
    if not any(isinstance(m, nn.Conv2d) and use_nhwc((2, m.in_channels), None, m.stride,
                                                      m.dilation, m.groups) for m in modules):
        return []
    pool = any(isinstance(m, nn.MaxPool2d) for m in modules)
    # (the pixel-major product's copy to NCHW: each pipeline slice's on its own thread)
    return ["nhwc_padded", "im2col_nhwc", "transpose12_serial"] + (
        ["max_pool_nhwc_values"] if pool else [])


# F(2x2, 3x3)'s transforms and the twins a forward under ops.conv.forward_once takes instead
_ONCE_TWINS = {"input_transform": "input_transform_serial",
               "output_transform": "output_transform_serial"}


def _once_twins(names, feature_cache, head_only):
    """``names`` with F(2x2, 3x3)'s serial transforms where a feature cache's fill takes them:
    in place of the parallel ones when only the head trains (nothing else runs the backbone's
    forward), besides them when more trains; without a feature cache, none."""
    if not feature_cache:
        return [n for n in names if n not in _ONCE_TWINS.values()]
    if head_only:
        return [_ONCE_TWINS.get(n, n) for n in names]
    return names + [t for t in _ONCE_TWINS.values() if t not in names]


# what a head's training adds to the forward: the loss and its update
_HEAD_TRAINING_NAMES = ("cross_entropy_forward", "cross_entropy_backward", "sgd_update_serial_")


def _wide_forward_names(modules, image_size=None):
    """The forward kernels only wide 3x3 layers reach: F(4x4, 3x3) Winograd (64 channels and
    more on maps of 16x16 and more, see ``ops.conv_winograd.forward_planes``; a photo at 224
    reaches it at 56x56; its serial twins for a batch's pipelined slices) and the
    parallel F(2x2, 3x3) weight transform (256x256 channels and more, which batch 1 takes at
    any map size, ``ops.conv_batch1``). Without them a frozen
    torchvision-width backbone compiled ~30 s of kernels, unannounced, in its first epoch. With
    ``image_size`` each convolution's map is followed through the modules in order (a strided
    1x1 convolution is taken for a ResNet's projection shortcut, beside the path: it moves no
    size), and a kernel is listed only if a layer reaches it; without, every wide 3x3 layer is
    taken to reach both. The dense product's gather
    (``ops.conv_dense``: maps of a few pixels, torchvision's layer3 at 32x32 input) is listed
    when a layer's map gets that small, and without ``image_size``."""
    from . import nn
    from .kernels.winograd import _SERIAL_TRANSFORM_BELOW
    from .ops.conv import takes_dense
    from .ops.conv_winograd import forward_planes, pipelined, tiles_per_image
    size, planes = image_size, set()
    for m in modules:
        if isinstance(m, nn.Conv2d):
            k, st, d = m.kernel_size[0], m.stride[0], m.dilation[0]
            if k == 1 and st > 1:
                continue
            O, C = m.weight.shape[:2]
            if size is not None:
                pad = m.padding if isinstance(m.padding, str) else m.padding[0]
                pad = {"same": d * (k - 1) // 2, "valid": 0}.get(pad, pad)
                if size > 0 and takes_dense((1, C, size, size), m.weight.shape, (st, st),
                                            (pad, pad), (d, d), m.groups):
                    planes.add("dense")
                size = (size + 2 * pad - d * (k - 1) - 1) // st + 1
            else:
                planes.add("dense")  # a map may get that small
            if (k, st, d, m.groups) == (3, 1, 1, 1) and min(O, C) >= 16:
                p = 36 if size is None and min(O, C) >= 64 else \
                    forward_planes(C, O, size or 0, size or 0, small_maps=True)
                planes.add(p)
                side = 16 if size is None else size   # (a map of unknown size: 16x16 or more)
                if p == 36 and pipelined(2, C, O, p, tiles_per_image(p, side, side)):
                    planes.add("pipelined")  # a batch's slices (ops.conv_winograd.pipelined)
                if 16 * O * C >= _SERIAL_TRANSFORM_BELOW:
                    planes.add("wide16")  # F(2x2, 3x3) on one image (predict, the last batch)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) and size is not None:
            k, st, pad = (v if isinstance(v, int) else v[0] for v in (m.kernel_size,
                          m.stride or m.kernel_size, m.padding))
            size = (size + 2 * pad - k) // st + 1
    names = []
    if 36 in planes:
        names += ["tiles43", "weight_transform43", "input_transform43", "output_transform43"]
    if "pipelined" in planes:
        names += ["input_transform43_serial", "output_transform43_serial"]
    if "wide16" in planes:
        names.append("weight_transform")
    if "dense" in planes:
        names.append("dense_weight")
    return names


def compile_if_cold(processes: int = 2, announce: bool = True, file=None, model=None,
                    image_size=None, inference=False, feature_cache=False) -> bool:
    """On a cold numba cache, say so in one line and compile the training kernels now, in
    ``processes`` processes (faster than the first step compiling them one by one); True if it
    compiled. With ``model``, only the kernels training it (or, ``inference``, its eval forward)
    reaches (``kernels_for``; ``feature_cache``: the run fills one). A warm cache costs a few
    file checks."""
    from .kernels import cold_kernels
    names = kernels_for(model, image_size, inference, feature_cache) if model is not None \
        else None
    if not cold_kernels(names):
        return False
    if announce:
        print("compiling kernels (first run only)...", file=file or sys.stderr, flush=True)
    warmup(processes, names)
    return True
