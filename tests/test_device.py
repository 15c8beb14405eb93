"""The device API of a CPU-only framework: device objects, cuda/backends/accelerator, .to()."""
import pickle

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn


def _torch():
    return pytest.importorskip("torch")


def test_device_objects_compare_print_and_hash_like_torch():
    assert repr(mt.device("cpu")) == "device(type='cpu')"
    assert repr(mt.device("cpu", 0)) == "device(type='cpu', index=0)"
    assert mt.device("cpu:0") == mt.device("cpu", 0) != mt.device("cpu")
    assert str(mt.device("cpu:0")) == "cpu:0" and str(mt.device("cpu")) == "cpu"
    assert mt.device("cpu").type == "cpu" and mt.device("cpu").index is None
    assert mt.device(mt.device("cpu:0")).index == 0
    assert hash(mt.device("cpu")) == hash(mt.device("cpu"))
    assert pickle.loads(pickle.dumps(mt.device("cpu:0"))) == mt.device("cpu:0")
    assert repr(mt.device("cuda", 1)) == "device(type='cuda', index=1)"  # built, not usable


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cpu:00", "cpu:0:1"])
def test_malformed_device_strings_are_refused_as_torch_refuses_them(spec):
    with pytest.raises(RuntimeError):
        mt.device(spec)
    with pytest.raises(RuntimeError):
        _torch().device(spec)


def test_device_strings_match_torch():
    t = _torch()
    for args in [("cpu",), ("cpu", 0), ("cpu:0",), ("cuda",), ("cuda:1",), ("mps",)]:
        assert repr(mt.device(*args)) == repr(t.device(*args))
        assert str(mt.device(*args)) == str(t.device(*args))


def test_tensor_device_is_the_cpu_device_object():
    x = mt.zeros(2)
    assert x.device == mt.device("cpu") and repr(x.device) == "device(type='cpu')"
    assert x.is_cpu and not x.is_cuda


def test_cuda_backends_and_accelerator_report_a_cpu_only_build():
    assert mt.cuda.is_available() is False and mt.cuda.device_count() == 0
    assert mt.backends.mps.is_available() is False and mt.backends.mps.is_built() is False
    assert mt.backends.cuda.is_built() is False and mt.backends.cudnn.is_available() is False
    assert mt.accelerator.is_available() is False and mt.accelerator.device_count() == 0
    assert mt.accelerator.current_accelerator() is None
    mt.cuda.manual_seed_all(0)  # a no-op, as on torch's CPU build
    mt.cuda.empty_cache()


def test_cpu_only_answers_equal_torch_cpu_build():
    t = _torch()
    assert mt.cuda.is_available() == t.cuda.is_available()
    assert mt.cuda.device_count() == t.cuda.device_count()
    assert mt.backends.mps.is_available() == t.backends.mps.is_available()
    assert mt.accelerator.is_available() == t.accelerator.is_available()
    assert mt.accelerator.current_accelerator() == t.accelerator.current_accelerator()
    for flag in ("benchmark", "deterministic", "enabled"):
        assert getattr(mt.backends.cudnn, flag) == getattr(t.backends.cudnn, flag)


def test_cudnn_flags_are_settable():
    old = mt.backends.cudnn.benchmark, mt.backends.cudnn.deterministic
    try:
        mt.backends.cudnn.benchmark = True
        mt.backends.cudnn.deterministic = True
        assert mt.backends.cudnn.benchmark and mt.backends.cudnn.deterministic
    finally:
        mt.backends.cudnn.benchmark, mt.backends.cudnn.deterministic = old


def test_the_portable_device_line_selects_the_cpu():
    device = "cuda" if mt.cuda.is_available() else "cpu"
    x = mt.ones(3, device=device).to(device)
    model = nn.Linear(3, 2).to(device)
    assert model(x).device == mt.device(device)


FACTORIES = [
    lambda d: mt.tensor([1.0], device=d), lambda d: mt.as_tensor([1.0], device=d),
    lambda d: mt.zeros(2, device=d), lambda d: mt.ones(2, device=d),
    lambda d: mt.full((2,), 1.0, device=d), lambda d: mt.empty(2, device=d),
    lambda d: mt.arange(3, device=d), lambda d: mt.linspace(0, 1, 3, device=d),
    lambda d: mt.eye(2, device=d), lambda d: mt.rand(2, device=d),
    lambda d: mt.randn(2, device=d), lambda d: mt.randint(0, 3, (2,), device=d),
    lambda d: mt.randperm(3, device=d), lambda d: mt.zeros_like(mt.ones(2), device=d),
    lambda d: mt.ones_like(mt.ones(2), device=d), lambda d: mt.full_like(mt.ones(2), 3, device=d),
    lambda d: mt.empty_like(mt.ones(2), device=d), lambda d: mt.rand_like(mt.ones(2), device=d),
    lambda d: mt.randn_like(mt.ones(2), device=d),
]


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_factory_takes_a_cpu_device_and_refuses_cuda(factory):
    for spec in ("cpu", "cpu:0", mt.device("cpu"), None):
        assert factory(spec).device == mt.device("cpu")
    with pytest.raises(mt.DeviceError, match="CPU only.*torch.cuda.is_available"):
        factory("cuda")


@pytest.mark.parametrize("use", [
    lambda: mt.zeros(2).to("cuda"), lambda: mt.zeros(2).to(mt.device("cuda", 0)),
    lambda: mt.zeros(2).cuda(), lambda: mt.zeros(2).to("mps"), lambda: mt.zeros(2, device=0),
    lambda: nn.Linear(2, 2).cuda(), lambda: nn.Linear(2, 2).to("cuda"),
    lambda: mt.cuda.current_device(), lambda: mt.cuda.synchronize(),
    lambda: mt.accelerator.current_device_index(),
])
def test_any_gpu_use_gets_one_runtime_error_with_the_portable_idiom(use):
    with pytest.raises(RuntimeError) as info:
        use()
    message = str(info.value)
    assert "\n" not in message and "CPU only" in message
    assert '"cuda" if torch.cuda.is_available() else "cpu"' in message


def test_tensor_to_forms_follow_torch():
    x = mt.tensor([1.5, -2.0])
    assert x.to("cpu") is x and x.to(mt.device("cpu")) is x and x.cpu() is x
    assert x.to(mt.float32) is x and x.to(dtype=mt.float32) is x
    assert x.to("cpu", non_blocking=True) is x
    y = x.to("cpu", mt.float64)
    assert y.dtype == mt.float64 and y.tolist() == [1.5, -2.0]
    assert x.to(mt.ones(1, dtype=mt.int64)).dtype == mt.int64
    assert x.to(device="cpu", dtype=mt.float64).dtype == mt.float64
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.tolist() == x.tolist()
    copied.add_(1.0)
    assert x.tolist() == [1.5, -2.0]


def test_tensor_to_is_differentiable_through_a_dtype_change():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x.to(mt.float64) * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == mt.float32


def test_tensor_to_matches_torch_identity_and_dtype():
    t = _torch()
    cases = [lambda m, x: x.to("cpu"), lambda m, x: x.to(m.float64),
             lambda m, x: x.to("cpu", m.float64), lambda m, x: x.to(m.float32, copy=True),
             lambda m, x: x.to(m.zeros(1, dtype=m.int64)), lambda m, x: x.cpu()]
    for case in cases:
        mx, tx = mt.tensor([1.0, 2.0]), t.tensor([1.0, 2.0])
        my, ty = case(mt, mx), case(t, tx)
        assert (my is mx) == (ty is tx)
        assert str(my.dtype).split(".")[1] == str(ty.dtype).split(".")[1]


def test_module_to_device_and_dtype():
    m = nn.Linear(2, 2)
    weight = m.weight
    assert m.to("cpu") is m and m.to(mt.device("cpu:0")) is m and m.cpu() is m
    assert m.to("cpu", mt.float64) is m and weight._data.dtype == np.float64
    assert m.to(mt.zeros(1)) is m and weight._data.dtype == np.float32
    assert m.weight is weight
    with pytest.raises(TypeError, match="floating point"):
        m.to(mt.int64)
    with pytest.raises(TypeError, match="unexpected keyword"):
        m.to(devise="cpu")


def test_device_as_a_context_manager():
    with mt.device("cpu"):
        assert mt.zeros(1).device == mt.device("cpu")
    with pytest.raises(mt.DeviceError):
        with mt.device("cuda"):
            pass


def test_default_device_is_the_cpu_and_only_the_cpu_can_be_set():
    assert mt.get_default_device() == mt.device("cpu")
    mt.set_default_device("cpu")
    mt.set_default_device(None)
    with pytest.raises(mt.DeviceError, match="CPU only"):
        mt.set_default_device("cuda")
    t = _torch()
    assert repr(mt.get_default_device()) == repr(t.get_default_device())
