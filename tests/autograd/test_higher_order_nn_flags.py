"""Gradients of the nn family differentiated to the third order (create_graph=True), against
torch: the values, and which gradients require grad, are leaves or are None. Torch decides
``requires_grad`` of a gradient by the inputs of its backward op: a piecewise-linear
activation's second derivative is a constant zero (no grad), a pool's or a reflection pad's
first gradient requires grad through the pooled input (its backward takes it), an
interpolation's or unfold's does not (theirs takes the gradient alone), and the fused
backward ops (convolution, layer/batch/group norm, prelu) give every gradient the requires_grad of all
their inputs, with None for a second derivative that does not exist."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

X = [[0.3, -1.2, 2.1, 0.7], [-0.4, 1.6, -2.3, 0.2], [1.1, -0.6, 0.45, -1.7]]

ONE_INPUT = [
    "F.gelu(x)", "F.gelu(x, approximate='tanh')", "F.leaky_relu(x, 0.2)", "F.elu(x, alpha=2.0)",
    "F.softplus(x, beta=2, threshold=1)", "F.hardtanh(x, -1.0, 1.0)", "F.relu6(x * 4)",
    "F.silu(x)", "F.selu(x)", "F.celu(x, alpha=0.5)", "F.hardswish(x * 4)", "F.mish(x)",
    "F.logsigmoid(x)", "F.softsign(x)", "F.softshrink(x, 0.5)", "F.hardshrink(x, 0.5)",
    "F.threshold(x, 0.5, 2.0)", "F.rrelu(x, training=False)",
    "F.elu(x.clone(), inplace=True)", "F.relu6(x.clone(), inplace=True)",
    "F.leaky_relu(x.clone(), 0.2, inplace=True)",
    "F.normalize(x, p=2, dim=1)", "F.normalize(x, p=1, dim=1)", "F.normalize(x, p=3, dim=0)",
    "F.pad(x, (1, 2), mode='reflect')", "F.pad(x, (1, 2), mode='replicate')",
    "F.pad(x, (1, 2), mode='constant', value=0.5)", "F.pad(x, (1, 2), mode='circular')",
    "F.interpolate(x.reshape(1, 1, 3, 4), scale_factor=2, mode='nearest')",
    "F.interpolate(x.reshape(1, 1, 3, 4), scale_factor=2, mode='bilinear', align_corners=True)",
    "F.interpolate(x.reshape(1, 1, 3, 4), size=(2, 5), mode='bilinear')",
    "F.max_pool1d(x.reshape(1, 1, -1), 2)", "F.avg_pool1d(x.reshape(1, 1, -1), 2)",
    "F.avg_pool1d(x.reshape(1, 1, -1), 3, padding=1, count_include_pad=False)",
    "F.adaptive_avg_pool1d(x.reshape(1, 1, -1), 5)", "F.adaptive_avg_pool1d(x.reshape(1, 1, -1), 1)",
    "F.adaptive_max_pool1d(x.reshape(1, 1, -1), 5)",
    "F.unfold(x.reshape(1, 1, 1, -1), (1, 3))", "F.unfold(x.reshape(1, 1, 3, 4), (2, 2))",
    "F.fold(x.reshape(1, 4, 3), (2, 4), (2, 2))",
]


def _describe(t):
    return None if t is None else (t.requires_grad, t.is_leaf, t.detach().numpy().copy())


def _orders(lib, expr, mode):
    """The first three derivatives of ``expr`` at X, each differentiated as (g * g).sum()."""
    x = lib.tensor(X, requires_grad=True)
    y = eval(expr, {"lib": lib, "F": lib.nn.functional, "x": x})
    if mode == "weighted":
        c = lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape) * 0.1 - 0.7
        g = lib.autograd.grad((y * c).sum(), [x], create_graph=True, allow_unused=True)[0]
    else:   # grad_outputs with history: the gradient depends on x through it too
        g = lib.autograd.grad(y, [x], grad_outputs=y * 1.5, create_graph=True,
                              allow_unused=True)[0]
    out = [_describe(g)]
    while g is not None and g.requires_grad and len(out) < 3:
        g = lib.autograd.grad((g * g).sum(), [x], create_graph=True, allow_unused=True)[0]
        out.append(_describe(g))
    return out


def _assert_same(got, want, what):
    assert len(got) == len(want), f"{what}: {len(got)} orders, torch {len(want)}"
    for k, (m, t) in enumerate(zip(got, want), 1):
        assert (m is None) == (t is None), f"{what} order {k}: None differs"
        if t is None:
            continue
        assert m[:2] == t[:2], f"{what} order {k}: (requires_grad, is_leaf) {m[:2]}, torch {t[:2]}"
        scale = 1 + np.abs(t[2]).max()
        np.testing.assert_allclose(m[2], t[2], rtol=1e-4, atol=1e-5 * scale, err_msg=f"{what} {k}")


@pytest.mark.parametrize("mode", ["weighted", "grad_outputs"])
@pytest.mark.parametrize("expr", ONE_INPUT)
def test_nn_gradients_to_third_order_agree_with_torch(expr, mode):
    _assert_same(_orders(mt, expr, mode), _orders(torch, expr, mode), expr)


# (expr, the other inputs requiring grad, the inputs differentiated): a fused backward op's
# gradients require grad when any of its tensor inputs does (convolution's takes no bias)
FUSED = [
    ("F.conv1d(a.reshape(1, 1, -1), w.reshape(2, 1, 3), b)", "", "w"),
    ("F.conv1d(a.reshape(1, 1, -1), w.reshape(2, 1, 3), b)", "", "b"),
    ("F.conv1d(a.reshape(1, 1, -1), w.reshape(2, 1, 3), b)", "a", "w b"),
    ("F.conv1d(a.reshape(1, 1, -1), w.reshape(2, 1, 3), b)", "w b", "a"),
    ("F.conv_transpose1d(a.reshape(1, 1, -1), w.reshape(1, 2, 3), b, stride=2)", "", "w"),
    ("F.conv_transpose1d(a.reshape(1, 1, -1), w.reshape(1, 2, 3), b, stride=2)", "a", "w b"),
    ("F.layer_norm(a.reshape(2, 3), (3,), weight=w[:3], bias=w[3:])", "", "w"),
    ("F.layer_norm(a.reshape(2, 3), (3,), weight=w[:3], bias=b)", "", "b"),
    ("F.layer_norm(a.reshape(2, 3), (3,), weight=w[:3], bias=b)", "w", "b"),
    ("F.batch_norm(a.reshape(2, 3), None, None, w[:3], w[3:], training=True)", "", "w"),
    ("F.group_norm(a.reshape(1, 2, 3), 1, w[:2], b)", "a", "w b"),
    ("F.group_norm(a.reshape(1, 2, 3), 1, w[:2], b)", "w", "b"),
    ("F.group_norm(a.reshape(1, 2, 3), 1, w[:2], b)", "b", "w"),
    ("F.group_norm(a.reshape(1, 2, 3), 2)", "", "a"),
    # prelu's kernel: zeros (not None) for x-x and w-w, its mixed terms count x < 0 only
    ("F.prelu(a.reshape(2, 3) * (a.reshape(2, 3) > 0.5), w[:1])", "", "a w"),
    ("F.prelu(a.reshape(2, 3), w[:1])", "a", "w"),
    ("F.prelu(a.reshape(2, 3), w[:1])", "w", "a"),
    ("F.prelu(a.reshape(1, 2, 3), w[:2])", "w", "a w"),
    ("F.batch_norm(a.reshape(2, 3), None, None, w[:3], b[:1].expand(3), training=True)", "a",
     "b"),
]
A = [0.3, -1.2, 2.1, 0.7, -0.4, 1.6]
W = [1.1, -0.6, 0.45, -1.7, 0.9, 0.2]


def _fused(lib, expr, others, wrt, mode):
    grad = set(others.split()) | set(wrt.split())
    env = {"lib": lib, "F": lib.nn.functional}
    for name, v in (("a", A), ("w", W), ("b", W[:3] if "layer_norm" in expr else W[:2])):
        env[name] = lib.tensor(v, requires_grad=name in grad)
    y = eval(expr, env)
    xs = [env[n] for n in wrt.split()]
    if mode == "weighted":
        c = lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape) * 0.3 - 0.7
        gs = lib.autograd.grad((y * c).sum(), xs, create_graph=True, allow_unused=True)
    else:
        gs = lib.autograd.grad(y, xs, grad_outputs=y * 1.5, create_graph=True,
                               allow_unused=True)
    out = []
    every = [env[n] for n in sorted(grad)]
    for g in gs:
        out.append(_describe(g))
        if g is not None and g.requires_grad:
            out += [_describe(h) for h in lib.autograd.grad((g * g).sum(), every,
                                                            retain_graph=True,
                                                            allow_unused=True)]
    return out


@pytest.mark.parametrize("mode", ["weighted", "grad_outputs"])
@pytest.mark.parametrize("expr, others, wrt", FUSED)
def test_fused_backward_gradients_require_grad_as_torch(expr, others, wrt, mode):
    got = _fused(mt, expr, others, wrt, mode)
    want = _fused(torch, expr, others, wrt, mode)
    _assert_same(got, want, f"{expr} wrt {wrt}")


def test_third_derivative_through_layer_norm_is_the_finite_difference_of_the_second():
    """torch's own third order through layer_norm is off (by 2e-3 here, in float64, against
    its finite differences: its double backward's graph is not exactly differentiable);
    minitorch's is the derivative of its second order, which matches torch's."""
    x0 = np.array(X)
    c = np.arange(12).reshape(3, 4) * 0.1 - 0.7

    def second(xv, third=False):
        x = mt.tensor(xv, dtype=mt.float64, requires_grad=True)
        g = mt.autograd.grad((mt.nn.functional.layer_norm(x, (4,)) * mt.tensor(c)).sum(), x,
                             create_graph=True)[0]
        g = mt.autograd.grad((g * g).sum(), x, create_graph=True)[0]
        h = (g * g).sum()
        return mt.autograd.grad(h, x)[0].numpy() if third else h.item()

    numeric = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        d = np.zeros_like(x0)
        d[i] = 1e-6
        numeric[i] = (second(x0 + d) - second(x0 - d)) / 2e-6
    np.testing.assert_allclose(second(x0, third=True), numeric, atol=1e-8)


@pytest.mark.parametrize("lib", [mt, torch], ids=["minitorch", "torch"])
def test_pdist_gradient_cannot_be_differentiated_again(lib):
    x = lib.tensor(X, requires_grad=True)
    (g,) = lib.autograd.grad(lib.nn.functional.pdist(x).sum(), x, create_graph=True)
    assert g.requires_grad
    with pytest.raises(NotImplementedError, match="derivative for '_pdist_backward'"):
        lib.autograd.grad((g * g).sum(), x)
