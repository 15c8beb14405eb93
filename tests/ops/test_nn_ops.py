"""nn.functional ops: one table drives float64 gradchecks and live PyTorch parity (forward and
backward, float32) over odd shapes: stride 2, padding, dilation, groups, non-square, batch 1,
1x1 kernels, ceil_mode. Each row's ``fn(F, *tensors)`` is written once and run with both
``minitorch.nn.functional`` and ``torch.nn.functional``: the APIs are the same."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch.autograd import gradcheck
from minitorch.ops import conv as conv_ops


def randn(*shape):
    return ("randn", shape)


def const(*shape):
    """A float input that needs no gradient (loss class weights are not differentiable)."""
    return ("const", shape)


def labels(n, classes, ignore_at=()):
    return ("labels", (n, classes, tuple(ignore_at)))


# (id, input specs, fn(F, *tensors)); float specs require grad, label specs are int64 targets
CASES = [
    ("conv_3x3_pad1", [randn(2, 3, 7, 6), randn(4, 3, 3, 3), randn(4)],
     lambda F, x, w, b: F.conv2d(x, w, b, padding=1)),
    ("conv_stride2_nonsquare", [randn(1, 2, 9, 7), randn(3, 2, 3, 2)],
     lambda F, x, w: F.conv2d(x, w, None, stride=(2, 3), padding=(1, 0))),
    ("conv_dilation", [randn(2, 2, 10, 9), randn(3, 2, 3, 3), randn(3)],
     lambda F, x, w, b: F.conv2d(x, w, b, stride=1, padding=2, dilation=(2, 3))),
    ("conv_groups", [randn(2, 4, 6, 6), randn(6, 2, 3, 3), randn(6)],
     lambda F, x, w, b: F.conv2d(x, w, b, padding=1, groups=2)),
    ("conv_depthwise_stride2", [randn(1, 3, 8, 8), randn(3, 1, 3, 3)],
     lambda F, x, w: F.conv2d(x, w, stride=2, padding=1, groups=3)),
    ("conv_1x1_stride2", [randn(2, 5, 7, 7), randn(6, 5, 1, 1)],
     lambda F, x, w: F.conv2d(x, w, stride=2)),
    ("conv_7x7_stem", [randn(1, 3, 12, 12), randn(4, 3, 7, 7)],
     lambda F, x, w: F.conv2d(x, w, stride=2, padding=3)),
    ("conv_few_pixels", [randn(1, 16, 3, 3), randn(5, 16, 3, 3), randn(5)],  # pixel-major GEMM
     lambda F, x, w, b: F.conv2d(x, w, b, padding=1)),
    # 3x3 stride 1 with >= 16 channels: the Winograd path in float32 (the torch parity test;
    # the float64 gradcheck runs im2col, as torch does) (odd and even sizes, padding 0-2)
    ("conv_winograd_pad1", [randn(2, 16, 7, 6), randn(16, 16, 3, 3), randn(16)],
     lambda F, x, w, b: F.conv2d(x, w, b, padding=1)),
    ("conv_winograd_pad0_odd", [randn(1, 16, 9, 8), randn(17, 16, 3, 3)],
     lambda F, x, w: F.conv2d(x, w, padding=0)),
    ("conv_winograd_pad2", [randn(1, 18, 4, 5), randn(16, 18, 3, 3)],
     lambda F, x, w: F.conv2d(x, w, padding=(2, 1))),
    ("conv_same_padding_dilated", [randn(1, 2, 6, 7), randn(3, 2, 3, 3)],
     lambda F, x, w: F.conv2d(x, w, padding="same", dilation=2)),
    ("linear", [randn(3, 5), randn(4, 5), randn(4)], lambda F, x, w, b: F.linear(x, w, b)),
    ("linear_3d_nobias", [randn(2, 3, 5), randn(4, 5)], lambda F, x, w: F.linear(x, w)),
    ("relu", [randn(2, 3, 4, 5)], lambda F, x: F.relu(x)),
    ("bn_train", [randn(4, 3, 5, 4), randn(3), randn(3)],
     lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
    ("bn_train_2d_noaffine", [randn(6, 3)],
     lambda F, x: F.batch_norm(x, None, None, training=True, eps=1e-3)),
    ("maxpool_2x2", [randn(2, 3, 8, 8)], lambda F, x: F.max_pool2d(x, 2)),
    ("maxpool_3x3_s2_pad1", [randn(1, 2, 9, 7)], lambda F, x: F.max_pool2d(x, 3, 2, 1)),
    ("maxpool_after_relu_ties", [randn(2, 3, 9, 8)],  # all-zero windows: tie-breaking
     lambda F, x: F.max_pool2d(F.relu(x - 0.5), 3, 2, 1)),
    ("maxpool_ceil_dilation", [randn(2, 2, 10, 9)],
     lambda F, x: F.max_pool2d(x, (3, 2), (2, 2), (1, 1), (2, 1), ceil_mode=True)),
    ("avgpool_pad_ceil", [randn(2, 2, 7, 6)],
     lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("avgpool_exclude_pad", [randn(1, 2, 7, 6)],
     lambda F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("avgpool_divisor", [randn(1, 2, 6, 6)],
     lambda F, x: F.avg_pool2d(x, 2, divisor_override=3)),
    ("adaptive_avg_1x1", [randn(2, 3, 7, 7)], lambda F, x: F.adaptive_avg_pool2d(x, 1)),
    ("adaptive_avg_uneven", [randn(1, 2, 10, 7)], lambda F, x: F.adaptive_avg_pool2d(x, (3, 4))),
    ("log_softmax_dim1", [randn(3, 5, 2)], lambda F, x: F.log_softmax(x, dim=1)),
    ("softmax_last", [randn(4, 6)], lambda F, x: F.softmax(x, dim=-1)),
    ("cross_entropy", [randn(5, 4), labels(5, 4)], lambda F, x, t: F.cross_entropy(x, t)),
    ("cross_entropy_weight_ignore_smooth", [randn(6, 4), labels(6, 4, ignore_at=[1]), const(4)],
     lambda F, x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=-100,
                                        label_smoothing=0.1)),
    ("cross_entropy_sum_spatial", [randn(2, 3, 2, 2), labels(8, 3)],
     lambda F, x, t: F.cross_entropy(x, t.reshape(2, 2, 2), reduction="sum")),
    ("cross_entropy_none", [randn(4, 3), labels(4, 3, ignore_at=[2])],
     lambda F, x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.2)),
    ("cross_entropy_probs", [randn(3, 4), randn(3, 4)],
     lambda F, x, q: F.cross_entropy(x, F.softmax(q, dim=1), label_smoothing=0.1)),
    ("nll_loss_weight", [randn(5, 3), labels(5, 3, ignore_at=[0]), const(3)],
     lambda F, x, t, w: F.nll_loss(F.log_softmax(x, 1), t, weight=w)),
    ("mse_loss", [randn(3, 4), randn(3, 4)], lambda F, x, y: F.mse_loss(x, y)),
]
IDS = [c[0] for c in CASES]


def make_arrays(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for kind, arg in specs:
        if kind in ("randn", "const"):
            a = rng.standard_normal(arg)
            out.append(a if kind == "randn" else np.abs(a) + 0.5)
        else:
            n, classes, ignore_at = arg
            t = rng.integers(0, classes, n)
            t[list(ignore_at)] = -100
            out.append(t.astype(np.int64))
    return out


def as_mt(arrays, specs, dtype):
    return [mt.tensor(a.astype(dtype), requires_grad=kind == "randn") if a.dtype.kind == "f"
            else mt.tensor(a) for a, (kind, _) in zip(arrays, specs)]


@pytest.mark.parametrize("name,specs,fn", CASES, ids=IDS)
def test_gradcheck_float64(name, specs, fn):
    inputs = as_mt(make_arrays(specs, seed=1), specs, np.float64)
    assert gradcheck(lambda *ts: fn(F, *ts), inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name,specs,fn", CASES, ids=IDS)
def test_matches_torch_forward_and_backward(name, specs, fn):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF

    arrays = make_arrays(specs, seed=2)
    ours = as_mt(arrays, specs, np.float32)
    theirs = [torch.tensor(a.astype(np.float32), requires_grad=kind == "randn")
              if a.dtype.kind == "f" else torch.tensor(a) for a, (kind, _) in zip(arrays, specs)]
    out, ref = fn(F, *ours), fn(TF, *theirs)
    scale = max(float(np.abs(ref.detach().numpy()).max()), 1.0)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-4,
                               atol=1e-5 * scale)
    g = np.random.default_rng(3).standard_normal(ref.shape).astype(np.float32)
    out.backward(mt.tensor(g))
    ref.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        if b.requires_grad:
            gs = max(float(b.grad.abs().max()), 1.0)
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-3,
                                       atol=1e-4 * gs)


@pytest.mark.parametrize("momentum", [0.1, 0.0, 1.0])
def test_batch_norm_updates_running_stats_like_torch(momentum):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((5, 3, 4, 2)).astype(np.float32) * 3 + 1
    rm, rv = mt.zeros(3), mt.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    for _ in range(2):
        F.batch_norm(mt.tensor(x), rm, rv, training=True, momentum=momentum)
        torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True,
                                       momentum=momentum)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_eval_uses_running_stats_and_leaves_them_unchanged():
    x = mt.randn(4, 2, 3, 3)
    rm, rv = mt.tensor([0.5, -1.0]), mt.tensor([4.0, 0.25])
    y = F.batch_norm(x, rm, rv, training=False, eps=0.0)
    expected = (x.numpy() - rm.numpy()[:, None, None]) / np.sqrt(rv.numpy())[:, None, None]
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert rm.numpy().tolist() == [0.5, -1.0] and rv.numpy().tolist() == [4.0, 0.25]


def test_batch_norm_training_bumps_running_stat_versions():
    rm, rv = mt.zeros(2), mt.ones(2)
    before = rm._version, rv._version
    F.batch_norm(mt.randn(3, 2), rm, rv, training=True)
    assert rm._version > before[0] and rv._version > before[1]


def test_fused_batch_norm_relu_equals_batch_norm_then_relu():
    from minitorch.ops.norm import BatchNorm

    specs = [randn(3, 4, 5, 5), randn(4), randn(4)]
    arrays = make_arrays(specs, seed=5)
    a = as_mt(arrays, specs, np.float64)
    b = as_mt(arrays, specs, np.float64)
    fused = BatchNorm.apply(*a, running_mean=None, running_var=None, training=True,
                            momentum=0.1, eps=1e-5, relu=True)
    plain = F.relu(F.batch_norm(*b[:1], None, None, *b[1:], training=True))
    np.testing.assert_allclose(fused.detach().numpy(), plain.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    g = mt.tensor(np.random.default_rng(6).standard_normal(fused.shape))
    fused.backward(g)
    plain.backward(g)
    for p, q in zip(a, b):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_backward_skips_weight_gradient_for_frozen_weight(monkeypatch):
    def forbidden(*args):
        raise AssertionError("weight-gradient GEMM ran for a frozen weight")

    monkeypatch.setattr(conv_ops, "_grad_weight", forbidden)
    x = mt.randn(2, 3, 6, 6, requires_grad=True)
    w = mt.randn(4, 3, 3, 3)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is not None and w.grad is None


def test_conv_backward_skips_input_gradient_for_input_without_grad(monkeypatch):
    def forbidden(*args):
        raise AssertionError("input-gradient GEMM + col2im ran for an input without grad")

    monkeypatch.setattr(conv_ops, "_grad_input", forbidden)
    x = mt.randn(2, 3, 6, 6)
    w = mt.randn(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert w.grad is not None


@pytest.mark.parametrize("frozen", ["weight", "input"])
def test_winograd_backward_skips_the_gradient_nobody_needs(monkeypatch, frozen):
    from minitorch.ops import conv_winograd

    name = "winograd_grad_weight" if frozen == "weight" else "winograd_grad_input"

    def forbidden(*args):
        raise AssertionError(f"{name} ran although its result is not needed")

    monkeypatch.setattr(conv_winograd, name, forbidden)
    x = mt.randn(2, 16, 6, 6, requires_grad=frozen == "weight")
    w = mt.randn(16, 16, 3, 3, requires_grad=frozen == "input")
    F.conv2d(x, w, padding=1).sum().backward()
    assert (x.grad is None) == (frozen == "input") and (w.grad is None) == (frozen == "weight")


@pytest.mark.parametrize("w_shape,stride", [((6, 3, 7, 7), 2), ((20, 16, 3, 3), 2),
                                             ((5, 4, 1, 1), 1)])
def test_conv_forward_over_batch_slices_equals_the_whole_batch(monkeypatch, w_shape, stride):
    rng = np.random.default_rng(7)
    x = mt.tensor(rng.standard_normal((5, w_shape[1], 12, 12)).astype(np.float32))
    w = mt.tensor(rng.standard_normal(w_shape).astype(np.float32))
    b = mt.tensor(rng.standard_normal(w_shape[0]).astype(np.float32))
    whole = F.conv2d(x, w, b, stride=stride, padding=w_shape[2] // 2).numpy()
    slices = []
    # (the RGB stem, 3 channels and a stride, takes the channels-last columns: ops.conv_nhwc)
    nhwc = w_shape[1] == 3
    owner, name = (conv_ops.NHWC, "forward") if nhwc else (conv_ops, "_forward_im2col")
    original = getattr(owner, name)
    monkeypatch.setattr(owner, name, lambda *args: slices.append(len(args[2]))
                        or original(*args))
    monkeypatch.setattr(conv_ops, "_COLS_BYTES", 1)  # one image at a time
    # (the whole-batch passes: a batch otherwise runs as conv_im2col_pipeline's slices)
    monkeypatch.setattr(conv_ops.PIPE, "pipelined", lambda *a: False)
    sliced = F.conv2d(x, w, b, stride=stride, padding=w_shape[2] // 2).numpy()
    # (the stem takes the whole batch and cuts its own slices, one thread each)
    assert slices == ([5] if nhwc else [1] * 5)
    np.testing.assert_allclose(sliced, whole, rtol=1e-5, atol=1e-5)


def test_one_output_pixel_per_image_takes_the_pixel_major_product_and_matches_torch(monkeypatch):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x_np = rng.standard_normal((6, 16, 2, 2)).astype(np.float32)
    w_np = rng.standard_normal((12, 16, 1, 1)).astype(np.float32)
    b_np = rng.standard_normal(12).astype(np.float32)
    copies = []
    original = conv_ops.K.transpose12_for
    monkeypatch.setattr(conv_ops.K, "transpose12_for", lambda out: copies.append(out.shape)
                        or original(out))
    results = []
    for lib in (mt, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
        y = lib.nn.functional.conv2d(x, w, b, stride=2)
        (y * y).sum().backward()
        results.append([t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)])
    assert copies == [(6, 12, 1)]   # (N, O, P): the pixel-major product's epilogue copy
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("w_shape,stride,groups", [((6, 3, 7, 7), 2, 1), ((20, 16, 3, 3), 2, 1),
                                                    ((6, 4, 3, 3), 1, 2)])
def test_conv_backward_over_batch_slices_equals_the_whole_batch(monkeypatch, w_shape, stride,
                                                                groups):
    rng = np.random.default_rng(9)
    x_np = rng.standard_normal((5, w_shape[1] * groups, 12, 12)).astype(np.float32)
    w_np = rng.standard_normal(w_shape).astype(np.float32)
    g_np = rng.standard_normal((5, w_shape[0], 12 // stride, 12 // stride)).astype(np.float32)

    def grads():
        x, w = mt.tensor(x_np, requires_grad=True), mt.tensor(w_np, requires_grad=True)
        F.conv2d(x, w, stride=stride, padding=w_shape[2] // 2, groups=groups).backward(
            mt.tensor(g_np))
        return x.grad.numpy(), w.grad.numpy()

    whole = grads()
    monkeypatch.setattr(conv_ops, "_COLS_BYTES", 1)  # one image at a time
    for sliced, ref in zip(grads(), whole):  # the slices' partial sums: float32 reordering
        np.testing.assert_allclose(sliced, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())


def test_winograd_forward_over_batch_slices_equals_the_whole_batch(monkeypatch):
    rng = np.random.default_rng(9)
    x = mt.tensor(rng.standard_normal((5, 16, 7, 6)).astype(np.float32))
    w = mt.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32))
    whole = F.conv2d(x, w, padding=1).numpy()
    from minitorch.ops import conv_winograd

    batches = []
    original = conv_winograd.WG.input_transform
    monkeypatch.setattr(conv_winograd.WG, "input_transform",
                        lambda V, x, PH, PW: batches.append(len(x)) or original(V, x, PH, PW))
    monkeypatch.setattr(conv_ops, "_COLS_BYTES", 1)  # one image at a time
    np.testing.assert_allclose(F.conv2d(x, w, padding=1).numpy(), whole, rtol=1e-5, atol=1e-5)
    assert batches == [1] * 5


def test_winograd_is_chosen_only_for_float32_3x3_stride1_convolutions():
    from minitorch.ops.conv_winograd import use_winograd

    f32 = np.float32
    assert use_winograd((2, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1), 1, f32)
    assert not use_winograd((2, 64, 56, 56), (64, 64, 3, 3), (2, 2), (1, 1), 1, f32)
    assert not use_winograd((2, 64, 56, 56), (64, 64, 3, 3), (1, 1), (2, 2), 1, f32)
    assert not use_winograd((2, 64, 56, 56), (64, 32, 3, 3), (1, 1), (1, 1), 2, f32)
    assert not use_winograd((2, 64, 56, 56), (64, 64, 1, 1), (1, 1), (1, 1), 1, f32)
    assert not use_winograd((2, 3, 32, 32), (64, 3, 3, 3), (1, 1), (1, 1), 1, f32)
    # float64 takes im2col, as torch's CPU float64 convolution (slow_conv2d)
    assert not use_winograd((2, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1), 1, np.float64)


def test_a_float64_convolution_runs_im2col_and_sums_the_products_exactly(monkeypatch):
    from minitorch.ops import conv_winograd

    def no_winograd(*args, **kwargs):
        raise AssertionError("float64 reached the Winograd path")

    monkeypatch.setattr(conv_winograd, "winograd_forward", no_winograd)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 16, 6, 6))
    w = rng.standard_normal((16, 16, 3, 3))
    y = F.conv2d(mt.tensor(x), mt.tensor(w), padding=1).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    direct = sum(np.einsum("nchw,oc->nohw", xp[:, :, i:i + 6, j:j + 6], w[:, :, i, j])
                 for i in range(3) for j in range(3))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, direct, rtol=1e-12, atol=1e-12)


def test_relu_inplace_without_grad_overwrites_input_and_bumps_version():
    x = mt.tensor([[-1.0, 2.0], [3.0, -4.0]])
    before = x._version
    y = F.relu(x, inplace=True)
    assert y is x and x.numpy().tolist() == [[0.0, 2.0], [3.0, 0.0]]
    assert x._version > before


def test_relu_inplace_with_grad_records_the_relu():
    a = mt.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    h = a * 1.0
    out = F.relu(h, inplace=True)
    out.sum().backward()
    assert a.grad.numpy().tolist() == [0.0, 1.0, 1.0]


def test_batch_norm_statistics_stay_exact_for_large_means():
    x = (1000 + np.random.default_rng(8).standard_normal((8, 2, 16))).astype(np.float32)
    y = F.batch_norm(mt.tensor(x), None, None, training=True, eps=0.0).numpy()
    x64 = x.astype(np.float64)
    ref = (x64 - x64.mean(axis=(0, 2), keepdims=True)) / x64.std(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-5)


def test_max_pool_return_indices_gives_flat_positions():
    x = mt.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert out.numpy().ravel().tolist() == [5, 7, 13, 15]
    assert idx.numpy().ravel().tolist() == [5, 7, 13, 15] and idx.dtype == mt.int64


def test_unbatched_conv_and_pool_accept_chw():
    x = mt.randn(3, 6, 6)
    assert F.conv2d(x, mt.randn(2, 3, 3, 3)).shape == (2, 4, 4)
    assert F.max_pool2d(x, 2).shape == (3, 3, 3)


def test_dropout_is_seeded_scaled_and_identity_in_eval():
    x = mt.ones(1000)
    mt.manual_seed(0)
    a = F.dropout(x, 0.25)
    mt.manual_seed(0)
    b = F.dropout(x, 0.25)
    assert np.array_equal(a.numpy(), b.numpy())
    assert set(np.unique(a.numpy())) <= {0.0, np.float32(1 / 0.75)}
    assert 0.15 < np.mean(a.numpy() == 0) < 0.35
    assert F.dropout(x, 0.5, training=False) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)


@pytest.mark.parametrize("call,match", [
    (lambda: F.conv2d(mt.randn(1, 4, 5, 5), mt.randn(2, 3, 3, 3)), r"expects input with 3 "
     r"channels, got input of shape \(1, 4, 5, 5\)"),
    (lambda: F.conv2d(mt.randn(5, 5), mt.randn(2, 3, 3, 3)), r"got shape \(5, 5\)"),
    (lambda: F.linear(mt.randn(2, 3), mt.randn(4, 5)), r"\(2, 3\).*\(4, 5\)"),
    (lambda: F.batch_norm(mt.randn(2, 3, 4), mt.zeros(4), mt.ones(4)), r"running_mean.*\(4,\)"),
    (lambda: F.max_pool2d(mt.randn(1, 1, 2, 2), 3), r"too large"),
    (lambda: F.cross_entropy(mt.randn(3, 4), mt.tensor([0, 1])), r"target of shape \(2,\)"),
])
def test_bad_shapes_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cross_entropy_target_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(mt.randn(2, 4), mt.tensor([0, 4]))


def test_winograd_keeps_the_transform_of_a_read_only_weight_only():
    from minitorch.ops import conv_winograd

    rng = np.random.default_rng(8)
    x = mt.tensor(rng.standard_normal((1, 16, 5, 5)).astype(np.float32))
    frozen = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    frozen.flags.writeable = False
    writable = frozen.copy()
    first = F.conv2d(x, mt.Tensor(frozen), padding=1).numpy()
    assert (id(frozen), 16) in conv_winograd._frozen_U  # F(2x2, 3x3): 16 planes at 5x5
    np.testing.assert_array_equal(F.conv2d(x, mt.Tensor(frozen), padding=1).numpy(), first)
    F.conv2d(x, mt.Tensor(writable), padding=1)
    assert (id(writable), 16) not in conv_winograd._frozen_U
    writable *= 2  # a writable weight changed in place is transformed afresh
    np.testing.assert_allclose(F.conv2d(x, mt.Tensor(writable), padding=1).numpy(), 2 * first,
                               rtol=1e-5, atol=1e-5)
    key = (id(frozen), 16)
    del frozen
    import gc
    gc.collect()
    assert key not in conv_winograd._frozen_U  # dropped with its weight
