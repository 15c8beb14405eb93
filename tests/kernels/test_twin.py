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


def test_the_pipelines_twins_give_bitwise_the_parallel_results():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 9, 9)).astype(np.float32)
    cols_a, cols_b = np.empty((45, 3 * 25), np.float32), np.empty((45, 3 * 25), np.float32)
    conv.im2col(cols_a, x, 3, 3, 2, 2, 1, 1, 1, 1)
    conv.im2col_serial(cols_b, x, 3, 3, 2, 2, 1, 1, 1, 1)
    assert cols_a.tobytes() == cols_b.tobytes()
    gx_a, gx_b = np.empty_like(x), np.empty_like(x)
    conv.col2im(gx_a, cols_a, 3, 3, 2, 2, 1, 1, 1, 1)
    conv.col2im_serial(gx_b, cols_a, 3, 3, 2, 2, 1, 1, 1, 1)
    assert gx_a.tobytes() == gx_b.tobytes()
    src = rng.standard_normal((6, 3, 25)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)
    res = rng.standard_normal((3, 6, 25)).astype(np.float32)
    for b, r, relu in ((bias[:0], res[:0], False), (bias, res[:0], True), (bias, res, True)):
        y_a, y_b = np.empty((3, 6, 25), np.float32), np.empty((3, 6, 25), np.float32)
        conv.swap01(y_a, src, b, r, relu)
        conv.swap01_serial(y_b, src, b, r, relu)
        assert y_a.tobytes() == y_b.tobytes()
    expected = np.maximum(src.transpose(1, 0, 2) + bias.reshape(1, 6, 1) + res, 0)
    assert np.array_equal(y_b, expected)   # the separate ops' numbers, in their order
