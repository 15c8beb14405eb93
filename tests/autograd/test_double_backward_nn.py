"""Second derivatives through the fused activations and losses (gradient penalties, MAML,
physics-informed losses): the gradient taken with create_graph=True is differentiable again,
with torch's values, requires_grad and None/zero gradients."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4)) * 2
T = rng.standard_normal((3, 4)) * 2
T[0, 0] = X[0, 0]                      # a zero difference: the kinks of l1/smooth l1
X[1, 1], X[1, 2] = 0.0, -1.0           # the activations' kinks
W, PW = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, 4)


def F(lib):
    return lib.nn.functional


ACTIVATIONS = {
    "leaky_relu": lambda lib, x: F(lib).leaky_relu(x, 0.1),
    "hardtanh": lambda lib, x: F(lib).hardtanh(x, -1.0, 2.0),
    "elu": lambda lib, x: F(lib).elu(x, 0.7),
    "softplus": lambda lib, x: F(lib).softplus(x, 2.0, 3.0),
    "silu": lambda lib, x: F(lib).silu(x),
    "gelu": lambda lib, x: F(lib).gelu(x),
    "gelu_tanh": lambda lib, x: F(lib).gelu(x, approximate="tanh"),
}

LOSSES = {f"{name}_{red}": (lambda lib, x, t, f=f, red=red: f(lib, x, t, red))
          for red in ("mean", "sum", "none") for name, f in {
              "mse": lambda lib, x, t, r: F(lib).mse_loss(x, t, reduction=r),
              "l1": lambda lib, x, t, r: F(lib).l1_loss(x, t, reduction=r),
              "smooth_l1": lambda lib, x, t, r: F(lib).smooth_l1_loss(x, t, reduction=r, beta=1.5),
              "smooth_l1_beta0": lambda lib, x, t, r: F(lib).smooth_l1_loss(x, t, reduction=r,
                                                                            beta=0.0),
              "huber": lambda lib, x, t, r: F(lib).huber_loss(x, t, reduction=r, delta=0.8),
              "bce_logits": lambda lib, x, t, r: F(lib).binary_cross_entropy_with_logits(
                  x, t.sigmoid(), reduction=r),
              "bce_logits_weights": lambda lib, x, t, r: F(lib).binary_cross_entropy_with_logits(
                  x, t, weight=lib.tensor(W), pos_weight=lib.tensor(PW), reduction=r),
          }.items()}


def as_np(lib, t):
    if t is None:
        return None
    return np.array(t.detach().numpy(force=True) if lib is torch else t.detach().numpy())


def second_order(lib, f, with_target):
    x = lib.tensor(X, requires_grad=True)
    t = lib.tensor(T, requires_grad=True)
    inputs = [x, t] if with_target else [x]
    y = f(lib, x, t) if with_target else f(lib, x)
    grads = lib.autograd.grad(y.sum() * 1.3, inputs, create_graph=True)
    penalty = sum((g * g * (i + 1)).sum() for i, g in enumerate(grads))
    second = lib.autograd.grad(penalty, inputs, allow_unused=True)
    return ([as_np(lib, a) for a in (y, *grads, *second)], [g.requires_grad for g in grads])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradient_is_differentiable_as_torch(name):
    expected, t_flags = second_order(torch, ACTIVATIONS[name], False)
    got, m_flags = second_order(mt, ACTIVATIONS[name], False)
    assert m_flags == t_flags == [True]
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_is_differentiable_as_torch(name):
    expected, t_flags = second_order(torch, LOSSES[name], True)
    got, m_flags = second_order(mt, LOSSES[name], True)
    assert m_flags == t_flags
    for i, (e, g) in enumerate(zip(expected, got)):
        assert (e is None) == (g is None), i
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12, err_msg=str(i))


def test_gradient_penalty_through_a_small_network_matches_torch():
    """WGAN-GP's penalty ((|grad_x D(x)| - 1)^2) through Linear, LeakyReLU, SiLU and an MSE."""
    w1 = rng.standard_normal((4, 6)) * 0.5
    w2 = rng.standard_normal((6, 1)) * 0.5

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        a, b = lib.tensor(w1, requires_grad=True), lib.tensor(w2, requires_grad=True)
        h = F(lib).silu(F(lib).leaky_relu(x @ a, 0.2)) @ b
        score = F(lib).mse_loss(h, lib.zeros_like(h))
        (g,) = lib.autograd.grad(score, [x], create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        return [as_np(lib, v) for v in (penalty, a.grad, b.grad, x.grad)]
    for e, g in zip(run(torch), run(mt)):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)


POOLS = {
    "max_pool2d": lambda lib, x: F(lib).max_pool2d(x, 3, 2, 1),
    "max_pool2d_after_leaky": lambda lib, x: F(lib).max_pool2d(F(lib).leaky_relu(x, 0.1) * x, 2),
    "avg_pool2d": lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda lib, x: F(lib).adaptive_avg_pool2d(x, (2, 3)),
}


@pytest.mark.parametrize("name", list(POOLS))
def test_pool_gradient_is_differentiable_as_torch(name):
    x0 = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal(tuple(POOLS[name](torch, torch.tensor(x0)).shape))

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad((POOLS[name](lib, x) * lib.tensor(w)).sum(), [x],
                                 create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum() + g.sum(), [x])
        return as_np(lib, g), as_np(lib, h), g.requires_grad
    expected, got = run(torch), run(mt)
    assert got[2] == expected[2] is True
    for e, g in zip(expected[:2], got[:2]):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5)])
def test_layer_norm_gradients_are_differentiable_as_torch(affine, normalized_shape):
    x0 = rng.standard_normal((3, 4, 5))
    w0, b0 = rng.standard_normal(normalized_shape), rng.standard_normal(normalized_shape)
    gw = rng.standard_normal((3, 4, 5))

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        params = [lib.tensor(w0, requires_grad=True), lib.tensor(b0, requires_grad=True)] \
            if affine else [None, None]
        y = F(lib).layer_norm(x, normalized_shape, *params, 1e-5)
        inputs = [x] + [p for p in params if p is not None]
        grads = lib.autograd.grad((y * lib.tensor(gw)).sum(), inputs, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), inputs, allow_unused=True)
        return [as_np(lib, t) for t in (*grads, *second)]
    for e, g in zip(run(torch), run(mt)):
        assert (e is None) == (g is None)
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


CLASSIFICATION = {
    "cross_entropy_mean": lambda lib, x, t, w: F(lib).cross_entropy(x, t),
    "cross_entropy_weights_ignore": lambda lib, x, t, w: F(lib).cross_entropy(
        x, t, weight=w, ignore_index=2),
    "cross_entropy_sum": lambda lib, x, t, w: F(lib).cross_entropy(x, t, reduction="sum"),
    "cross_entropy_none": lambda lib, x, t, w: F(lib).cross_entropy(x, t, reduction="none"),
    "cross_entropy_smoothing": lambda lib, x, t, w: F(lib).cross_entropy(x, t,
                                                                         label_smoothing=0.1),
    "cross_entropy_smoothing_weights_ignore_sum": lambda lib, x, t, w: F(lib).cross_entropy(
        x, t, weight=w, ignore_index=3, label_smoothing=0.2, reduction="sum"),
    "cross_entropy_smoothing_weights_mean": lambda lib, x, t, w: F(lib).cross_entropy(
        x, t, weight=w, label_smoothing=0.3),
    "cross_entropy_unbatched": lambda lib, x, t, w: F(lib).cross_entropy(x[0], t[0]),
    "nll_after_log_softmax": lambda lib, x, t, w: F(lib).nll_loss(F(lib).log_softmax(x, 1), t,
                                                                  weight=w),
    "nll_none": lambda lib, x, t, w: F(lib).nll_loss(F(lib).log_softmax(x, 1), t,
                                                     reduction="none"),
}


@pytest.mark.parametrize("name", list(CLASSIFICATION))
def test_classification_loss_gradients_are_differentiable_as_torch(name):
    x0 = rng.standard_normal((5, 4))
    t0 = np.array([0, 2, 3, 1, 2])
    w0 = rng.uniform(0.5, 2.0, 4)

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        loss = CLASSIFICATION[name](lib, x, lib.tensor(t0), lib.tensor(w0))
        (g,) = lib.autograd.grad(loss.sum(), [x], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [x])
        return [as_np(lib, g), as_np(lib, h)]
    for e, g in zip(run(torch), run(mt)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_maml_second_order_step_matches_torch():
    """One inner SGD step with create_graph=True on a linear classifier, then the query loss's
    gradient with respect to the initial weights (through the inner gradient)."""
    xs, ys = rng.standard_normal((6, 3)), np.array([0, 1, 2, 1, 0, 2])
    xq, yq = rng.standard_normal((6, 3)), np.array([2, 1, 0, 0, 1, 2])
    w0, b0 = rng.standard_normal((3, 3)) * 0.5, np.zeros(3)

    def run(lib):
        w, b = lib.tensor(w0, requires_grad=True), lib.tensor(b0, requires_grad=True)
        inner = F(lib).cross_entropy(F(lib).linear(lib.tensor(xs), w, b), lib.tensor(ys))
        gw, gb = lib.autograd.grad(inner, [w, b], create_graph=True)
        w1, b1 = w - 0.5 * gw, b - 0.5 * gb
        outer = F(lib).cross_entropy(F(lib).linear(lib.tensor(xq), w1, b1), lib.tensor(yq))
        outer.backward()
        return [as_np(lib, v) for v in (outer, w.grad, b.grad)]
    for e, g in zip(run(torch), run(mt)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
