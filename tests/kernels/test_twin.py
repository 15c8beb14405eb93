"""Serial twins (kernels/twin.py): the same results as the parallel kernel, a cache of their own,
and picked by size so the digits job reaches only the twin."""
import numpy as np

from minitorch.kernels import conv, twin, winograd


def test_twins_give_bitwise_the_parallel_result():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((24, 20, 3, 3)).astype(np.float32)
    a, b = np.empty((16, 24, 20), np.float32), np.empty((16, 24, 20), np.float32)
    winograd.weight_transform(a, w)
    winograd.weight_transform_serial(b, w)
    assert a.tobytes() == b.tobytes()
    src = rng.standard_normal((3, 70, 40)).astype(np.float32)
    bias = rng.standard_normal(40).astype(np.float32)
    res = rng.standard_normal((3, 40, 70)).astype(np.float32)
    x, y = np.empty((3, 40, 70), np.float32), np.empty((3, 40, 70), np.float32)
    conv.transpose12(x, src, bias, res, True)
    conv.transpose12_serial(y, src, bias, res, True)
    assert x.tobytes() == y.tobytes()


def test_a_twin_has_its_own_cache_files():
    # numba's cache index key ignores parallel=True: sharing files, one would load the other's code
    for kernel, serial in ((winograd.weight_transform, winograd.weight_transform_serial),
                           (conv.transpose12, conv.transpose12_serial)):
        assert serial.targetoptions.get("parallel") in (None, False)
        assert kernel.targetoptions.get("parallel")
        assert serial._cache._cache_file._index_path != kernel._cache._cache_file._index_path
    assert twin.serial_twin(conv.swap01, "swap01_serial").py_func.__qualname__ == "swap01_serial"


def test_small_sizes_take_the_twin_large_ones_the_parallel_kernel():
    f32 = np.float32
    assert winograd.weight_transform_for(np.empty((16, 128, 128), f32)) \
        is winograd.weight_transform_serial   # the digits job's largest weight
    assert winograd.weight_transform_for(np.empty((16, 256, 256), f32)) \
        is winograd.weight_transform           # ResNet-18's layer3 at 224
    assert conv.transpose12_for(np.empty((64, 16, 128), f32)) is conv.transpose12_serial
    assert conv.transpose12_for(np.empty((16, 512, 49), f32)) is conv.transpose12


def test_twins_release_the_gil_so_pipeline_threads_run_side_by_side():
    from minitorch.kernels import winograd43, winograd43_grad
    for serial in (winograd.weight_transform_serial, winograd43.input_transform43_serial,
                   winograd43.output_transform43_serial,
                   winograd43_grad.output_transform_adjoint43_serial):
        assert serial.targetoptions.get("nogil") is True
