"""Ahead-of-time compiling (``minitorch.kernels.warmup``) and the pure-Python debugging mode."""
import os
import subprocess
import sys

import numpy as np

import minitorch as mt
import minitorch.kernels as kernels
from minitorch import nn, optim
from minitorch.kernels import precompile as W

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


_SCRIPT = """
import numpy as np
import minitorch as mt, minitorch.nn.functional as F
rng = np.random.default_rng(0)
x = mt.tensor(rng.standard_normal((2, 3, 6, 5)), requires_grad=True)
w = mt.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
y = F.conv2d(x, w, stride=(1, 2), padding=1)
y = F.relu(F.batch_norm(y, None, None, training=True))
y = F.max_pool2d(y, 2, ceil_mode=True)
loss = F.cross_entropy(F.adaptive_avg_pool2d(y, 1).flatten(1), mt.tensor([1, 3]))
loss.backward()
np.save(OUT, np.concatenate([[loss.item()], x.grad.numpy().ravel(), w.grad.numpy().ravel()]))
"""


def test_kernels_run_as_plain_python_with_jit_disabled(tmp_path):
    # STYLE: every kernel must also run under NUMBA_DISABLE_JIT=1 (for debugging in Python)
    results = []
    for disable in ("0", "1"):
        out = tmp_path / f"out{disable}.npy"
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable, PYTHONPATH=ROOT)
        subprocess.run([sys.executable, "-c", f"OUT = {str(out)!r}\n" + _SCRIPT], env=env,
                       check=True, cwd=ROOT, timeout=300)
        results.append(np.load(out))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


def test_every_warmup_entry_names_a_real_kernel_and_runs():
    # warmup() finds each kernel's cache file by this name: a typo would make it always "cold"
    for name in kernels.KERNEL_NAMES:
        assert callable(W._kernel(name))
    kernels.compile_kernels(kernels.KERNEL_NAMES)  # every warm-up call has valid arguments
    assert kernels.cold_kernels() == []


def test_warmup_starts_no_process_when_the_cache_is_warm(monkeypatch):
    kernels.compile_kernels()
    monkeypatch.setattr(W, "_is_cached", lambda name: True)

    def no_children(*args, **kwargs):
        raise AssertionError("started a compile process with a warm cache")

    monkeypatch.setattr(W.subprocess, "Popen", no_children)
    kernels.warmup(processes=2)


def test_warmup_gives_each_cold_kernel_to_exactly_one_process(monkeypatch):
    started, compiled = [], []

    class FakePopen:
        def __init__(self, args, env=None, **kwargs):
            self.args = args
            started.append(args[3:])

        def wait(self):
            return 0

    monkeypatch.setattr(W, "_is_cached", lambda name: name not in ("im2col", "col2im", "tiles"))
    monkeypatch.setattr(W.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(W, "compile_kernels", lambda names=None: compiled.append(list(names)))
    kernels.warmup(processes=2)
    assert len(started) == 1
    own, last = compiled[0], compiled[-1]
    assert sorted(own + started[0]) == ["col2im", "im2col", "tiles"]
    assert set(own).isdisjoint(started[0])
    assert last == list(kernels.KERNEL_NAMES)  # then everything is loaded here


def test_a_failed_compile_process_is_reported(monkeypatch):
    class FailingPopen:
        def __init__(self, args, env=None, **kwargs):
            self.args = args

        def wait(self):
            return 1

    monkeypatch.setattr(W, "_is_cached", lambda name: False)
    monkeypatch.setattr(W.subprocess, "Popen", FailingPopen)
    monkeypatch.setattr(W, "compile_kernels", lambda names=None: None)
    try:
        kernels.warmup(processes=2)
    except RuntimeError as exc:
        assert "compile process failed" in str(exc)
    else:
        raise AssertionError("a failed child went unnoticed")


def test_split_by_cost_is_complete_and_balanced():
    shares = W.split_by_cost(kernels.KERNEL_NAMES, 2)
    assert sorted(shares[0] + shares[1]) == sorted(kernels.KERNEL_NAMES)
    cost = [sum(W._COMPILE_SECONDS[n] for n in s) for s in shares]
    assert abs(cost[0] - cost[1]) <= max(W._COMPILE_SECONDS.values())
    assert W.split_by_cost(["im2col"], 4) == [["im2col"]]
    assert W.split_by_cost([], 2) == []
    assert set(W._COMPILE_SECONDS) == set(kernels.KERNEL_NAMES)


def test_compile_children_import_this_copy_of_minitorch(tmp_path):
    # a child importing another copy (say the installed one) would fill that copy's cache
    code = "import minitorch.kernels as k; print(k.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=W._child_env(), cwd=tmp_path,
                         capture_output=True, text=True, check=True, timeout=120)
    assert os.path.samefile(out.stdout.strip(), kernels.__file__)


def test_warm_calls_cover_every_signature_a_training_step_compiles():
    # a kernel signature the warm-up misses is compiled by the first step instead
    sys.path.insert(0, ROOT)
    from models import resnet18
    kernels.compile_kernels()
    before = {f: set(f.signatures) for f in _dispatchers()}
    mt.manual_seed(0)
    model = resnet18(num_classes=10, variant="imagenet", width=8).train()
    params = list(model.parameters())
    params.append(nn.Parameter(mt.zeros(9000)))  # big enough for the parallel SGD kernel
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32), dtype=np.float32))
    loss = nn.functional.cross_entropy(model(x), mt.tensor([1, 3])) + (params[-1] * 1).sum()
    loss.backward()
    opt.step()
    new = {f.__name__: sorted(map(str, set(f.signatures) - before[f])) for f in _dispatchers()}
    assert {k: v for k, v in new.items() if v} == {}


def _dispatchers():
    return [W._kernel(n) for n in kernels.KERNEL_NAMES]


def _frozen_resnet(num_classes=5, **kwargs):
    """A ResNet-18 (``models.resnet18(**kwargs)``) in eval mode with only ``fc`` trainable."""
    sys.path.insert(0, ROOT)
    from models import resnet18
    mt.manual_seed(0)
    model = resnet18(num_classes=num_classes, **kwargs)
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("fc."))
    return model.eval()


def test_warm_calls_cover_every_signature_a_frozen_backbone_run_compiles():
    # the digits job's path: frozen, folded (read-only) conv weights, a head that trains; a
    # signature the warm-up misses would be compiled, unannounced, in the first epoch
    from minitorch import runtime
    model = _frozen_resnet(variant="small", width=8)
    _assert_head_step_compiles_nothing_new(model, runtime.kernels_for(model), 32)


def test_warm_calls_cover_the_digits_jobs_feature_cache_fill():
    # the digits job's width, its backbone run once into the feature cache (forward_once)
    from minitorch import runtime
    model = _frozen_resnet(variant="small", width=16)
    _assert_head_step_compiles_nothing_new(model, runtime.kernels_for(model, 32, False, True),
                                           32, once=True)


def test_warm_calls_cover_predicts_forward_at_batch_64_and_1():
    # minitorch-predict on the digits model: a folder in batches, then a last single image
    from minitorch import runtime
    from minitorch.autograd.grad_mode import no_grad
    from minitorch.ops import conv as conv_ops
    model = _frozen_resnet(variant="small", width=16)
    kernels.compile_kernels(runtime.kernels_for(model, 32, inference=True))
    before = {f: set(f.signatures) for f in _dispatchers()}
    rng = np.random.default_rng(0)
    with no_grad(), conv_ops.forward_once():
        for n in (64, 1):
            model(mt.tensor(rng.standard_normal((n, 3, 32, 32), dtype=np.float32)))
    new = {f.__name__: sorted(map(str, set(f.signatures) - before[f])) for f in _dispatchers()}
    assert {k: v for k, v in new.items() if v} == {}


def _assert_head_step_compiles_nothing_new(model, names, size, once=False):
    """After compiling ``names``, one head-training step of ``model`` on two ``size`` images
    adds no signature to any kernel (``once``: the backbone under ``forward_once``, then the
    head, as the feature cache runs them)."""
    from minitorch.autograd.grad_mode import no_grad
    from minitorch.ops import conv as conv_ops
    kernels.compile_kernels(names)
    before = {f: set(f.signatures) for f in _dispatchers()}
    opt = optim.SGD(model.fc.parameters(), lr=0.1, momentum=0.9)
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 3, size, size), dtype=np.float32))
    if once:
        from minitorch.train.prefix_cache import RESNET_ORDER, run_children
        with no_grad(), conv_ops.forward_once():
            features = run_children(model, list(RESNET_ORDER[:-1]), x)
        logits = model.fc(features)
    else:
        logits = model(x)
    nn.functional.cross_entropy(logits, mt.tensor([1, 2])).backward()
    opt.step()
    new = {f.__name__: sorted(map(str, set(f.signatures) - before[f])) for f in _dispatchers()}
    assert {k: v for k, v in new.items() if v} == {}


def test_warm_calls_cover_a_frozen_torchvision_width_backbone_on_photos():
    # the own-images flow: torchvision's widths, a frozen backbone; at 64x64 its layer1 runs
    # at 16x16 (F(4x4, 3x3) Winograd) and layer3's 256x256 weights take the parallel transform,
    # which a 224 photo reaches too: kernels_for must list them, or epoch 1 compiles them
    from minitorch import runtime
    model = _frozen_resnet(3, variant="imagenet", width=64)
    names = runtime.kernels_for(model, image_size=64)
    assert {"input_transform43", "weight_transform"} <= set(names)
    _assert_head_step_compiles_nothing_new(model, names, 64)
