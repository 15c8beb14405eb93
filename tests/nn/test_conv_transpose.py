"""ConvTranspose1d/2d and F.conv_transpose1d/2d against torch: values, input/weight/bias
gradients, shapes, grad_fn names, reprs, state-dict layout, output_size, errors; and a float64
gradcheck of the Function itself."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import nn

torch = pytest.importorskip("torch")

# (input shape, weight shape, keyword arguments)
CASES = [
    ((2, 4, 5, 5), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, groups=2, dilation=2, output_padding=1)),
    ((2, 4, 5, 5), (4, 3, 3, 3), dict(stride=1, dilation=3, output_padding=2)),
    ((3, 4, 4, 4), (4, 2, 4, 4), dict(stride=2, padding=1)),      # DCGAN's upsampling block
    ((1, 8, 7, 7), (8, 8, 3, 3), dict(padding=1)),                # a Winograd-sized backward
    ((4, 5, 5), (4, 2, 3, 3), dict(stride=(2, 1), padding=(0, 1))),  # unbatched
]


def _pair(shape, rng):
    a = rng.standard_normal(shape).astype(np.float32)
    return mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CASES, ids=[str(c[2]) for c in CASES])
def test_conv_transpose2d_matches_torch_values_and_gradients(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(0)
    (xo, xt), (wo, wt) = _pair(x_shape, rng), _pair(w_shape, rng)
    bo, bt = _pair((w_shape[1] * kwargs.get("groups", 1),), rng)
    out = F.conv_transpose2d(xo, wo, bo, **kwargs)
    ref = torch.nn.functional.conv_transpose2d(xt, wt, bt, **kwargs)
    assert tuple(out.shape) == tuple(ref.shape) and out.dtype == mt.float32
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(mt.tensor(g))
    ref.backward(torch.tensor(g))
    for ours, theirs in ((xo, xt), (wo, wt), (bo, bt)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv_transpose2d_records_torchs_node_and_skips_frozen_gradients():
    x = mt.randn(2, 3, 4, 4, requires_grad=True)
    w = mt.randn(3, 2, 3, 3)
    out = F.conv_transpose2d(x, w, stride=2)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    out.sum().backward()
    assert w.grad is None and x.grad.shape == x.shape


def test_conv_transpose1d_matches_torch():
    rng = np.random.default_rng(1)
    (xo, xt), (wo, wt) = _pair((2, 4, 7), rng), _pair((4, 3, 3), rng)
    kw = dict(stride=2, padding=1, output_padding=1, dilation=1)
    out = F.conv_transpose1d(xo, wo, **kw)
    ref = torch.nn.functional.conv_transpose1d(xt, wt, **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_conv_transpose2d_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = mt.tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    w = mt.tensor(rng.standard_normal((4, 1, 3, 2)), requires_grad=True)
    b = mt.tensor(rng.standard_normal(2), requires_grad=True)
    assert mt.autograd.gradcheck(
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                           groups=2), (x, w, b))


MODULES = [
    "nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False)",
    "nn.ConvTranspose2d(4, 6, (3, 2))",
    "nn.ConvTranspose2d(4, 6, 3, dilation=2, padding=2)",
    "nn.ConvTranspose1d(4, 6, 3, dilation=2)",
]


@pytest.mark.parametrize("text", MODULES)
def test_module_repr_parameters_and_init_match_torch(text):
    mt.manual_seed(0)
    ours, theirs = eval(text, {"nn": nn}), eval(text, {"nn": torch.nn})  # noqa: S307
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    # PyTorch's default init: kaiming_uniform(a=sqrt(5)) on fan_in = weight.shape[1] * k
    fan_in = ours.weight[0].numel()
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / np.sqrt(fan_in) + 1e-7
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                            for k, v in ours.state_dict().items()})
    shape = (2, 4, 5) if "1d" in text else (2, 4, 5, 5)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(mt.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_output_size_picks_the_output_padding_as_torch():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    x = mt.randn(1, 4, 5, 5)
    assert tuple(m(x, output_size=[10, 10]).shape) == (1, 6, 10, 10)
    assert tuple(m(x, output_size=(1, 6, 9, 10)).shape) == (1, 6, 9, 10)
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        m(x, output_size=[12, 10])


@pytest.mark.parametrize("call,match", [
    (lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=2), "output padding must"),
    (lambda x, w: F.conv_transpose2d(x, w, groups=3), "divisible by 3"),
    (lambda x, w: F.conv_transpose2d(x[:, :3], w), "to have 4 channels, but got 3"),
    (lambda x, w: F.conv_transpose2d(x, w, mt.zeros(4)), "bias to be 1-dimensional with 3"),
    (lambda x, w: F.conv_transpose2d(x, w, stride=0), "non-positive stride"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=-1), "negative padding"),
    (lambda x, w: F.conv_transpose2d(x.double(), w), "scalar type"),
])
def test_bad_arguments_raise_like_torch(call, match):
    x, w = mt.randn(2, 4, 5, 5), mt.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match=match):
        call(x, w)
    with pytest.raises(RuntimeError):   # torch refuses the same call
        _torch_call(call)(torch.randn(2, 4, 5, 5), torch.randn(4, 3, 3, 3))


def _torch_call(call):
    """The same call with torch's functional (the lambda's globals swapped)."""
    import types
    g = dict(call.__globals__, F=torch.nn.functional, mt=torch)
    return types.FunctionType(call.__code__, g)


def test_padding_mode_other_than_zeros_is_refused():
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
