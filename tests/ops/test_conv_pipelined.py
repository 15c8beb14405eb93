"""Pipelined F(4x4, 3x3) convolutions (``ops.conv_winograd.pipelined``): a batch's slices each
transformed, multiplied and transformed back on one thread, forward and backward. The same
numbers as the whole-batch passes (to F(4x4, 3x3)'s rounding), torch's, and the weight gradient
the same bits whatever the threads."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch.kernels import gemm
from minitorch.kernels import winograd43 as K43
from minitorch.ops import conv as conv_ops
from minitorch.ops import conv_winograd as WG


def rel_err(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.fixture(autouse=True)
def restore_threads():
    before = gemm.get_num_threads()
    yield
    gemm.set_num_threads(before)


def test_the_rule_pipelines_a_batch_of_few_channels_in_f43_only():
    assert WG.pipelined(16, 64, 64, 36, 196) and WG.pipelined(2, 128, 64, 36, 4)
    assert WG.pipelined(16, 256, 256, 36, 16)       # 256 channels on 14x14 maps
    assert not WG.pipelined(64, 256, 256, 36, 4)    # 256 channels on 8x8: thin slices
    assert not WG.pipelined(1, 64, 64, 36, 196)     # one image: the parallel kernels
    assert not WG.pipelined(16, 64, 512, 36, 16)    # wide products: whole-batch passes
    assert not WG.pipelined(16, 64, 64, 16, 196)    # F(2x2, 3x3)


def test_slices_are_whole_images_at_least_four_and_the_same_for_any_threads():
    for threads in (1, 2, 3):
        gemm.set_num_threads(threads)
        slices = WG.pipeline_slices(64, WG._PIPELINE_SLICE_TILES // 3)
        assert slices[0] == (0, 3) and slices[-1] == (63, 64)
        assert [n for s in slices for n in range(*s)] == list(range(64))
        assert WG.pipeline_slices(8, 1) == [(0, 2), (2, 4), (4, 6), (6, 8)]   # not 8 in 1
        assert WG.pipeline_slices(3, 1000) == [(0, 1), (1, 2), (2, 3)]


# (N, C, O, H, W, padding, slice tiles): one image per slice, several, uneven slices
CASES = [(4, 64, 64, 16, 16, 1, 1), (5, 64, 128, 18, 17, 1, 1 << 30), (3, 128, 64, 16, 20, 0, 1),
         (7, 64, 64, 17, 16, 2, 2 * 25)]


def _run(x, w, g, padding, threads, pipelined=True):
    gemm.set_num_threads(threads)
    xm, wm = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
    y = F.conv2d(xm, wm, padding=padding)
    y.backward(mt.tensor(g))
    return y.detach().numpy(), xm.grad.numpy(), wm.grad.numpy()


@pytest.mark.parametrize("case", CASES)
def test_forward_and_gradients_match_torch_and_the_whole_batch_passes(case, monkeypatch):
    torch = pytest.importorskip("torch")
    N, C, O, H, W, p, slice_tiles = case
    monkeypatch.setattr(WG, "_PIPELINE_SLICE_TILES", slice_tiles)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((O, C, 3, 3)) * 0.05).astype(np.float32)
    g = rng.standard_normal((N, O, H + 2 * p - 2, W + 2 * p - 2)).astype(np.float32)
    piped = _run(x, w, g, p, 2)
    monkeypatch.setattr(WG, "_PIPELINE_MAX_CHANNELS", 0)
    whole = _run(x, w, g, p, 2)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, padding=p)
    yt.backward(torch.from_numpy(g))
    for ours, other, theirs in zip(piped, whole, (yt.detach(), xt.grad, wt.grad)):
        assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
        assert rel_err(ours, theirs.numpy()) < 1e-5
        assert rel_err(ours, other) < 1e-5


def test_the_pipeline_runs_the_serial_kernels_not_the_parallel_ones(monkeypatch):
    calls = []
    for name in ("input_transform43", "input_transform43_serial", "output_transform43",
                 "output_transform43_serial"):
        real = getattr(K43, name)
        monkeypatch.setattr(K43, name, lambda *a, real=real, name=name: (calls.append(name),
                                                                        real(*a))[1])
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((4, 64, 16, 16)).astype(np.float32))
    w = mt.tensor(rng.standard_normal((64, 64, 3, 3)).astype(np.float32))
    F.conv2d(x, w, padding=1)
    assert set(calls) == {"input_transform43_serial", "output_transform43_serial"}
    calls.clear()
    F.conv2d(x[:1], w, padding=1)   # one image: the parallel kernels
    assert set(calls) == {"input_transform43", "output_transform43"}


def test_the_weight_gradient_is_the_same_bits_on_one_thread_two_and_again():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 64, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    g = rng.standard_normal((16, 64, 16, 16)).astype(np.float32)
    runs = [_run(x, w, g, 1, t) for t in (1, 2, 2, 2)]
    for r in runs[1:]:
        for a, b in zip(runs[0], r):
            assert a.tobytes() == b.tobytes()


def test_the_inference_epilogue_adds_the_residual_and_relu_per_slice():
    # the eval path's fused convolution (nn.fuse): bias, residual and ReLU in each slice's
    # output transform
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 64, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    res = rng.standard_normal((6, 64, 16, 16)).astype(np.float32)
    plan = conv_ops.prepare_inference(x.shape, w, (1, 1), (1, 1), (1, 1), 1)
    assert WG.pipelined(6, 64, 64, plan.planes, 16)
    out = conv_ops.conv2d_inference(plan, x, b, res, True)
    with mt.no_grad():
        ref = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), padding=1).numpy()
    assert np.array_equal(out, np.maximum(ref + res, 0))   # bitwise the separate ops


# ------------------------------------------------------------ im2col convolutions (strided, 1x1)
from minitorch.ops import conv_im2col_pipeline as PIPE  # noqa: E402


def test_the_im2col_rule_takes_a_float32_batch_of_one_group_and_several_pixels():
    assert PIPE.pipelined(2, 1, 4, np.float32)
    assert not PIPE.pipelined(1, 1, 4, np.float32)     # one image: the whole-image product
    assert not PIPE.pipelined(8, 2, 4, np.float32)     # grouped
    assert not PIPE.pipelined(8, 1, 1, np.float32)     # one pixel: the pixel-major product
    assert not PIPE.pipelined(8, 1, 4, np.float64)     # float64 (gradcheck): im2col as it was


# (N, C, O, H, kernel, stride, padding, dilation, slice bytes): ResNet's strided 3x3 and 1x1,
# a dilated one, slices of one image and of several
IM2COL_CASES = [(5, 16, 24, 12, 3, 2, 1, 1, 1), (6, 32, 16, 9, 1, 2, 0, 1, 1 << 30),
                (4, 8, 12, 11, 3, 1, 2, 2, 2 * 8 * 9 * 81 * 4), (3, 4, 8, 7, 2, 1, 0, 1, 1)]


@pytest.mark.parametrize("case", IM2COL_CASES)
def test_im2col_forward_and_gradients_match_torch_and_the_whole_batch(case, monkeypatch):
    torch = pytest.importorskip("torch")
    N, C, O, H, k, s, p, d, slice_bytes = case
    monkeypatch.setattr(PIPE, "_SLICE_BYTES", slice_bytes)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    w = (rng.standard_normal((O, C, k, k)) * 0.2).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    geo = dict(stride=s, padding=p, dilation=d)

    def run():
        xm, wm, bm = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(xm, wm, bm, **geo)
        g = np.random.default_rng(5).standard_normal(y.shape).astype(np.float32)
        y.backward(mt.tensor(g))
        return g, [t.numpy() for t in (y.detach(), xm.grad, wm.grad, bm.grad)]
    g, piped = run()
    calls = []
    real = PIPE.pipelined
    monkeypatch.setattr(PIPE, "pipelined", lambda *a: calls.append(real(*a)) and False)
    _, whole = run()
    assert calls and all(calls)    # the case does take the pipeline, which was just turned off
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, **geo)
    yt.backward(torch.from_numpy(g))
    for ours, other, theirs in zip(piped, whole, (yt.detach(), xt.grad, wt.grad, bt.grad)):
        assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ours, other, rtol=1e-5, atol=1e-5)


def test_im2col_weight_gradient_is_the_same_bits_on_one_thread_two_and_again():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((16, 32, 14, 14)).astype(np.float32)
    w = (rng.standard_normal((48, 32, 3, 3)) * 0.1).astype(np.float32)
    runs = []
    for threads in (1, 2, 2):
        gemm.set_num_threads(threads)
        xm, wm = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
        y = F.conv2d(xm, wm, stride=2, padding=1)
        y.backward(y.detach())
        runs.append((y.detach().numpy(), xm.grad.numpy(), wm.grad.numpy()))
    for r in runs[1:]:
        for a, b in zip(runs[0], r):
            assert a.tobytes() == b.tobytes()


def test_im2col_inference_epilogue_is_bitwise_the_separate_ops():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 16, 10, 10)).astype(np.float32)
    w = rng.standard_normal((24, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    res = rng.standard_normal((6, 24, 5, 5)).astype(np.float32)
    plan = conv_ops.prepare_inference(x.shape, w, (2, 2), (1, 1), (1, 1), 1)
    assert not plan.winograd and PIPE.pipelined(6, 1, 25, np.float32)
    out = conv_ops.conv2d_inference(plan, x, b, res, True)
    with mt.no_grad():
        ref = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), stride=2, padding=1).numpy()
    assert np.array_equal(out, np.maximum(ref + res, 0))
