"""``minitorch.runtime``: the explicit process tuning (import makes none of it)."""
import json
import os
import subprocess
import sys

import pytest

from minitorch import runtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CONFIGURE = r'''
import json, os, sys
import numpy, numba
from threadpoolctl import threadpool_info
import minitorch
from minitorch.kernels import gemm
s = minitorch.runtime.configure(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None)
again = minitorch.runtime.configure()
print(json.dumps({"settings": s.__dict__, "again": again.__dict__,
                  "blas": sorted({i["num_threads"] for i in threadpool_info()
                                  if i["user_api"] == "blas"}),
                  "numba": numba.get_num_threads(), "gemm": gemm.get_num_threads(),
                  "omp": os.environ.get("OMP_WAIT_POLICY"),
                  "spin": os.environ.get("GOMP_SPINCOUNT")}))
'''


def _configure_in_fresh_process(*args, **env):
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", _CONFIGURE, *args], cwd=ROOT, env=environ,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_configure_makes_blas_single_threaded_and_the_pool_take_the_threads():
    r = _configure_in_fresh_process()
    assert r["blas"] == [1] and r["settings"]["blas_threads"] == 1
    assert r["gemm"] == r["numba"] == r["settings"]["threads"] >= 1
    assert r["omp"] is None and r["spin"] == r["settings"]["omp_spin_count"] == "1000"
    if sys.platform.startswith("linux"):
        assert r["settings"]["allocator_tuned"]
    assert r["again"] == r["settings"]  # calling it twice changes nothing


def test_configure_thread_count_and_the_users_wait_policy_win():
    r = _configure_in_fresh_process("1", OMP_WAIT_POLICY="ACTIVE")
    assert r["numba"] == r["gemm"] == 1
    assert r["omp"] == "ACTIVE" and r["spin"] is None and r["settings"]["omp_spin_count"] is None


def test_configure_keeps_the_users_spin_count():
    r = _configure_in_fresh_process(GOMP_SPINCOUNT="20")
    assert r["spin"] == r["settings"]["omp_spin_count"] == "20"


def test_configure_rejects_a_thread_count_below_one():
    with pytest.raises(ValueError, match="threads"):
        runtime.configure(threads=0)


def test_configure_warms_blas_once_per_process(monkeypatch):
    # OpenBLAS (one thread) runs small products 3x slower until one of > ~25M multiply-adds
    seen = []
    monkeypatch.setattr(runtime, "_warm_blas", lambda: seen.append("warm"))
    monkeypatch.setitem(runtime._applied, "blas_warm", False)
    runtime.configure()
    runtime.configure()
    assert seen == ["warm"]


def test_the_blas_warm_up_product_is_past_the_slow_start_size(monkeypatch):
    import numpy as np
    sizes = []
    real = np.ndarray.__matmul__

    class Spy(np.ndarray):
        pass

    monkeypatch.setattr(np, "ones", lambda shape, dtype: np.full(shape, 1, dtype).view(Spy))
    monkeypatch.setattr(Spy, "__matmul__", lambda a, b: sizes.append(
        a.shape[0] * a.shape[1] * b.shape[1]) or real(a, b), raising=False)
    runtime._warm_blas()
    assert len(sizes) == 1 and sizes[0] > 29_000_000  # 128x576 @ 576x392 (29M) measured enough


def test_compile_if_cold_says_so_and_compiles_only_on_a_cold_cache(monkeypatch, capsys):
    import minitorch.kernels as kernels
    warmed = []
    monkeypatch.setattr(runtime, "warmup", lambda processes, names: warmed.append(processes))
    monkeypatch.setattr(kernels, "cold_kernels", lambda names: [])
    assert runtime.compile_if_cold() is False
    assert capsys.readouterr().err == "" and warmed == []
    monkeypatch.setattr(kernels, "cold_kernels", lambda names: ["im2col"])
    assert runtime.compile_if_cold(processes=3) is True
    assert capsys.readouterr().err == "compiling kernels (first run only)...\n"
    assert warmed == [3]


def _frozen_backbone(**kwargs):
    sys.path.insert(0, ROOT)
    from models import resnet18
    model = resnet18(num_classes=5, **kwargs)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    return model


def test_a_frozen_backbone_compiles_no_backward_kernel(monkeypatch):
    import minitorch.kernels as kernels
    asked = []
    monkeypatch.setattr(runtime, "warmup", lambda processes, names: asked.append(names))
    monkeypatch.setattr(kernels, "cold_kernels", lambda names: list(names or ["all"]))
    runtime.compile_if_cold(model=_frozen_backbone(variant="small", width=16), announce=False,
                            image_size=32)
    # the digits job's model: forward, loss and the head's update, nothing else
    assert sorted(asked[0]) == sorted(kernels.HEAD_ONLY_NAMES)
    # its frozen backbone run once into the feature cache: F(2x2, 3x3)'s serial transforms
    cached = runtime.kernels_for(_frozen_backbone(variant="small", width=16), 32,
                                 feature_cache=True)
    twins = {"input_transform_serial", "output_transform_serial"}
    assert sorted(cached) == sorted(set(kernels.HEAD_ONLY_NAMES) - {
        "input_transform", "output_transform"} | twins)
    # torchvision's widths on photos reach F(4x4, 3x3); on 32x32 images only batch 1's
    # parallel weight transform; with no size known, both are taken
    wide = {"tiles43", "weight_transform43", "input_transform43", "output_transform43"}
    tv = _frozen_backbone(variant="imagenet", width=64)
    assert wide | {"weight_transform"} <= set(runtime.kernels_for(tv, 224))
    assert not wide & set(runtime.kernels_for(tv, 32))
    assert "weight_transform" in runtime.kernels_for(tv, 32)
    # layer3's 2x2 maps at 32x32 run as one dense product; photos never get maps that small
    assert "dense_weight" in runtime.kernels_for(tv, 32)
    assert "dense_weight" not in runtime.kernels_for(tv, 224)
    assert wide <= set(runtime.kernels_for(_frozen_backbone(variant="small", width=16)))
    # minitorch-predict / evaluate: the eval forward only, whatever requires_grad says
    infer = set(runtime.kernels_for(resnet18_imagenet(), 224, inference=True))
    assert wide | {"max_pool2d_forward_values", "im2col"} <= infer
    # (their forward runs under ops.conv.forward_once: F(2x2, 3x3)'s serial transforms)
    assert {"input_transform_serial", "output_transform_serial"} <= infer
    assert not infer & {"input_transform", "output_transform"}
    assert not infer & {"cross_entropy_forward", "sgd_update_serial_", "col2im",
                        "max_pool2d_forward"}


def resnet18_imagenet():
    sys.path.insert(0, ROOT)
    from models import resnet18
    return resnet18(num_classes=3, variant="imagenet", width=64)
    names = runtime.kernels_for(_frozen_backbone())  # the imagenet stem's max-pool
    assert set(kernels.MAX_POOL_NAMES) <= set(names) and "col2im" not in names
    model = _frozen_backbone(variant="small", width=16)
    model.layer4[1].bn2.weight.requires_grad_(True)  # one trainable BatchNorm: the whole set
    twins = {"input_transform_serial", "output_transform_serial"}  # (a feature cache's)
    assert sorted(runtime.kernels_for(model)) == sorted(set(kernels.KERNEL_NAMES) - twins)
    assert sorted(runtime.kernels_for(model, feature_cache=True)) == sorted(kernels.KERNEL_NAMES)


def test_set_num_threads_is_torchs_and_sets_the_kernels_threads():
    code = ("import minitorch as mt\n"
            "mt.set_num_threads(1); a = mt.get_num_threads()\n"
            "mt.runtime.configure(); mt.set_num_threads(2)\n"
            "from minitorch.kernels import gemm\n"
            "print(a, mt.get_num_threads(), gemm._state['threads'])\n"
            "try:\n    mt.set_num_threads(0)\nexcept ValueError as e:\n    print('refused')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "2", "2", "refused"]
