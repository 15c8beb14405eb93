"""The layers core-nn added against torch.nn, through test_layers_more's check (the same
constructor text in both libraries, our parameters copied into torch's, train and eval: outputs,
input and parameter gradients, buffers, state-dict keys and repr must agree), plus the
behaviour a table cannot show."""
import warnings

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import nn

from .test_layers_more import check_layer

torch = pytest.importorskip("torch")

# (constructor text with `nn`, input shape, input kind), as test_layers_more.LAYERS
LAYERS = [
    ("nn.GroupNorm(2, 6)", (2, 6, 4, 3), "float"),
    ("nn.GroupNorm(3, 6, affine=False)", (2, 6, 5), "float"),
    ("nn.GroupNorm(1, 4, eps=1e-3, bias=False)", (3, 4), "float"),
    ("nn.InstanceNorm2d(3)", (2, 3, 4, 5), "float"),
    ("nn.InstanceNorm1d(3, affine=True, track_running_stats=True)", (2, 3, 7), "float"),
    ("nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=None)",
     (3, 4, 5), "float"),   # unbatched (C, H, W)
    ("nn.RMSNorm(5)", (2, 3, 5), "float"),
    ("nn.RMSNorm((3, 5), eps=1e-3, elementwise_affine=False)", (2, 3, 5), "float"),
    ("nn.LocalResponseNorm(3)", (2, 6, 4, 4), "float"),
    ("nn.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0)", (2, 5, 7), "float"),
    ("nn.SELU()", (2, 3, 4), "float"),
    ("nn.CELU(0.5)", (2, 3, 4), "float"),
    ("nn.Hardswish()", (4, 6), "float"),
    ("nn.Hardsigmoid()", (4, 6), "float"),
    ("nn.Mish()", (4, 6), "float"),
    ("nn.LogSigmoid()", (4, 6), "float"),
    ("nn.Softsign()", (4, 6), "float"),
    ("nn.Softmin(dim=1)", (2, 5, 3), "float"),
    ("nn.Softshrink()", (4, 6), "float"),
    ("nn.Hardshrink(0.3)", (4, 6), "float"),
    ("nn.Tanhshrink()", (4, 6), "float"),
    ("nn.Threshold(0.1, 20)", (4, 6), "float"),
    ("nn.GLU()", (3, 4), "float"),
    ("nn.GLU(dim=1)", (2, 6, 3), "float"),
    ("nn.PReLU()", (2, 3, 4), "float"),
    ("nn.PReLU(3, init=0.1)", (2, 3, 4, 2), "float"),
    ("nn.ZeroPad1d(2)", (2, 3, 4), "float"),
    ("nn.ZeroPad2d((1, 1, 2, 0))", (2, 3, 4, 4), "float"),
    ("nn.ConstantPad1d(2, 3.5)", (2, 3, 4), "float"),
    ("nn.ConstantPad2d((1, 2, 3, 4), -1)", (1, 2, 3, 3), "float"),
    ("nn.ReflectionPad1d(2)", (2, 3, 4), "float"),
    ("nn.ReflectionPad2d(1)", (2, 3, 4, 4), "float"),
    ("nn.ReplicationPad1d((1, 2))", (2, 3, 4), "float"),
    ("nn.ReplicationPad2d(1)", (3, 4, 4), "float"),
    ("nn.CircularPad1d(1)", (2, 3, 4), "float"),
    ("nn.CircularPad2d((1, 0, 2, 1))", (2, 3, 4, 4), "float"),
    ("nn.PixelShuffle(2)", (2, 8, 3, 4), "float"),
    ("nn.PixelShuffle(3)", (9, 2, 2), "float"),
    ("nn.PixelUnshuffle(2)", (2, 3, 4, 6), "float"),
    ("nn.Unfold(2)", (2, 3, 4, 5), "float"),
    ("nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2))", (2, 3, 6, 7), "float"),
    ("nn.Unfold(3, padding=1)", (3, 4, 4), "float"),
    ("nn.Fold((4, 5), 2)", (2, 12, 12), "float"),
    ("nn.Fold(6, (2, 3), dilation=1, padding=1, stride=2)", (24, 12), "float"),
    ("nn.AdaptiveMaxPool1d(3)", (2, 3, 8), "float"),
    ("nn.AdaptiveMaxPool2d((3, None))", (2, 3, 7, 5), "float"),
    ("nn.AdaptiveMaxPool2d(2)", (3, 5, 5), "float"),
    ("nn.AdaptiveMaxPool2d((4, 3))", (2, 2, 5, 7), "float"),
    ("nn.UpsamplingNearest2d(scale_factor=2)", (1, 2, 3, 4), "float"),
    ("nn.UpsamplingBilinear2d(size=(4, 5))", (1, 2, 3, 4), "float"),
]


@pytest.mark.parametrize("text,shape,kind", LAYERS, ids=[row[0] for row in LAYERS])
def test_extra_layer_matches_torch_in_train_and_eval(text, shape, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's InstanceNorm num_features warning
        check_layer(text, shape, kind, names=False)


def test_instance_norm_running_stats_are_the_mean_of_the_samples_updates():
    x = np.random.default_rng(0).standard_normal((4, 3, 6)).astype(np.float32)
    rm, rv = mt.zeros(3), mt.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    F.instance_norm(mt.tensor(x), rm, rv, momentum=0.3)
    torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-6)
    out = F.instance_norm(mt.tensor(x), rm, rv, use_input_stats=False)
    ref = torch.nn.functional.instance_norm(torch.tensor(x), trm, trv, use_input_stats=False)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call,error,match", [
    (lambda F, lib: F.group_norm(lib.randn(2, 6, 4), 4), RuntimeError, "divisible by num_groups"),
    (lambda F, lib: F.instance_norm(lib.randn(2, 3, 1)), ValueError,
     "more than 1 spatial element"),
    (lambda F, lib: F.rms_norm(lib.randn(2, 3), (4,)), RuntimeError,
     r"normalized_shape=\[4\]"),
    (lambda F, lib: F.local_response_norm(lib.randn(2, 3), 2), ValueError, "3D or higher"),
])
def test_norm_errors_as_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(F, mt)
    with pytest.raises(error, match=match):
        call(torch.nn.functional, torch)


def test_group_norm_constructor_checks_divisibility():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(3, affine=True)(mt.randn(2, 4, 5))


def test_activation_kinks_have_torchs_gradients():
    points = [-3.0, -0.5, -0.3, 0.0, 0.1, 0.3, 0.5, 3.0]
    for fn, args in (("hardswish", ()), ("hardsigmoid", ()), ("selu", ()), ("celu", (0.5,)),
                     ("softshrink", (0.5,)), ("hardshrink", (0.3,)), ("threshold", (0.1, 2.0)),
                     ("mish", ()), ("logsigmoid", ()), ("softsign", ()), ("tanhshrink", ())):
        x, xt = mt.tensor(points, requires_grad=True), torch.tensor(points, requires_grad=True)
        out, ref = getattr(F, fn)(x, *args), getattr(torch.nn.functional, fn)(xt, *args)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6,
                                   atol=1e-7, err_msg=fn)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=fn)


@pytest.mark.parametrize("text", ["nn.SELU(inplace=True)", "nn.CELU(inplace=True)",
                                  "nn.Hardswish(inplace=True)", "nn.Hardsigmoid(inplace=True)",
                                  "nn.Mish(inplace=True)", "nn.Threshold(0.1, 20, inplace=True)",
                                  "nn.RReLU(0.1, 0.3, inplace=True)"])
def test_inplace_activation_modules_write_into_their_input_as_torch(text):
    values = [-2.0, -0.5, 0.05, 0.5, 8.0]
    x, xt = mt.tensor(values), torch.tensor(values)
    ours, theirs = eval(text, {"nn": nn}), eval(text, {"nn": torch.nn})  # noqa: S307
    assert repr(ours) == repr(theirs)
    out = ours.eval()(x)
    theirs.eval()(xt)
    assert out is x
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-6)


def test_functional_inplace_forms_exist_where_torch_has_them():
    for name in ("selu_", "celu_", "threshold_", "rrelu_"):
        x = mt.tensor([-1.0, 0.5])
        args = (0.0, 9.0) if name == "threshold_" else ()
        assert getattr(F, name)(x, *args) is x
        ref = getattr(torch.nn.functional, name)(torch.tensor([-1.0, 0.5]), *args)
        np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6)


def test_rrelu_trains_with_random_slopes_in_range_and_evaluates_with_their_mean():
    mt.manual_seed(0)
    x = mt.full((2000,), -1.0, requires_grad=True)
    m = nn.RReLU(0.1, 0.3)
    out = m(x)
    slopes = -out.detach().numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.03
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-6)   # gradient = the slope
    np.testing.assert_allclose(m.eval()(mt.tensor([-1.0, 2.0])).numpy(), [-0.2, 2.0], rtol=1e-6)


def test_prelu_per_channel_weight_gradient_sums_over_the_other_axes():
    x = np.random.default_rng(4).standard_normal((2, 3, 5)).astype(np.float32)
    w = np.array([0.1, 0.2, 0.3], np.float32)
    xo, wo = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.prelu(xo, wo).sum().backward()
    torch.nn.functional.prelu(xt, wt).sum().backward()
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(xo, mt.ones(2))


@pytest.mark.parametrize("call,error", [
    (lambda F, lib: F.glu(lib.randn(2, 3)), RuntimeError),
    (lambda F, lib: F.softshrink(lib.randn(2, 3), -1.0), RuntimeError),
])
def test_activation_errors_as_torch(call, error):
    with pytest.raises(error):
        call(F, mt)
    with pytest.raises(error):
        call(torch.nn.functional, torch)


def test_adaptive_max_pool_indices_match_torch():
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 5)).astype(np.float32)
    out, idx = F.adaptive_max_pool2d(mt.tensor(x), (3, 2), return_indices=True)
    ref, ridx = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), (3, 2),
                                                        return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ridx.numpy())
    assert idx.dtype == mt.int64
    out1, idx1 = nn.AdaptiveMaxPool1d(3, return_indices=True)(mt.tensor(x[0]))
    ref1, ridx1 = torch.nn.AdaptiveMaxPool1d(3, return_indices=True)(torch.tensor(x[0]))
    np.testing.assert_array_equal(idx1.numpy(), ridx1.numpy())


def test_fold_of_unfold_counts_each_pixels_blocks_as_torch():
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 6)).astype(np.float32)
    args = dict(kernel_size=(2, 3), padding=1, stride=(1, 2))
    ours = F.fold(F.unfold(mt.tensor(x), **args), (5, 6), **args)
    ref = torch.nn.functional.fold(torch.nn.functional.unfold(torch.tensor(x), **args), (5, 6),
                                   **args)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)
    assert ours.grad_fn is None


def test_bilinear_matches_torch_values_gradients_and_init():
    mt.manual_seed(0)
    ours, theirs = nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)
    assert repr(ours) == repr(theirs)
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / np.sqrt(3)
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                            for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 6, 3)).astype(np.float32), \
        rng.standard_normal((2, 6, 4)).astype(np.float32)
    xa, xb = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = ours(xa, xb), theirs(ta, tb)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    for o, t in ((xa.grad, ta.grad), (xb.grad, tb.grad), (ours.weight.grad, theirs.weight.grad),
                 (ours.bias.grad, theirs.bias.grad)):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.pixel_shuffle(lib.ones(1, 3, 2, 2), 2),
    lambda F, lib: F.pixel_unshuffle(lib.ones(1, 3, 3, 3), 2),
    lambda F, lib: F.fold(lib.ones(1, 5, 9), (4, 4), 2),
    lambda F, lib: F.fold(lib.ones(1, 4, 8), (4, 4), 2),
    lambda F, lib: F.adaptive_max_pool2d(lib.ones(2, 3), 2),
    lambda F, lib: F.bilinear(lib.ones(2, 3), lib.ones(2, 5), lib.ones(6, 3, 4)),
])
def test_shape_errors_as_torch(call):
    with pytest.raises(RuntimeError):
        call(F, mt)
    with pytest.raises(RuntimeError):
        call(torch.nn.functional, torch)
