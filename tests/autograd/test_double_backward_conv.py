"""Second (and third) derivatives through convolution, batch norm, embedding and pad, as torch's:
the gradient taken with create_graph=True is differentiated again and every value, gradient and
grad_fn name is compared with torch's; finite differences (gradgradcheck) check the conv's and
batch norm's second derivatives on their own."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

rng = np.random.default_rng(7)


def F(lib):
    return lib.nn.functional


def as_np(t):
    return None if t is None else np.array(t.detach().numpy())


def second_order(lib, f, arrays):
    """f's first gradients (create_graph) wrt every input, then the gradient of a weighted sum
    of their squares and sums: (first, second, the first's grad_fn names and requires_grad)."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    y = f(lib, *inputs)
    weight = lib.tensor(np.random.default_rng(3).standard_normal(tuple(y.shape)))
    first = lib.autograd.grad((y * weight).sum() + (y * y).sum(), inputs, create_graph=True,
                              allow_unused=True)
    used = [g for g in first if g is not None]
    penalty = sum(((g * g).sum() * (i + 1) + g.sum()) for i, g in enumerate(used))
    second = lib.autograd.grad(penalty, inputs, allow_unused=True)
    names = [None if g is None or g.grad_fn is None else g.grad_fn.name() for g in first]
    flags = [None if g is None else g.requires_grad for g in first]
    return [as_np(g) for g in first], [as_np(g) for g in second], names, flags


def assert_like_torch(f, arrays, names=True, rtol=1e-9, of_max=False):
    """``of_max``: the tolerance is ``rtol`` of each result's largest magnitude (results whose
    entries span many orders, where the small ones carry the large ones' rounding)."""
    t_first, t_second, t_names, t_flags = second_order(torch, f, arrays)
    m_first, m_second, m_names, m_flags = second_order(mt, f, arrays)
    assert m_flags == t_flags
    for i, (e, g) in enumerate(zip(t_first + t_second, m_first + m_second)):
        assert (e is None) == (g is None), i
        if e is not None:
            atol = rtol * np.nanmax(np.abs(e)) if of_max and np.isfinite(e).any() else 1e-10
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=str(i))
    if names:
        assert m_names == t_names


CONV2D = {  # (x shape, w shape, bias, kwargs)
    "plain": ((2, 3, 6, 5), (4, 3, 3, 3), True, {}),
    "stride_padding": ((2, 3, 7, 6), (4, 3, 3, 2), True, dict(stride=2, padding=(1, 2))),
    "dilation_groups": ((2, 4, 7, 7), (6, 2, 3, 3), False, dict(padding=2, dilation=2, groups=2)),
    "uncovered_rows": ((1, 2, 8, 7), (3, 2, 3, 3), True, dict(stride=3)),   # rows no window reads
    "dead_taps": ((2, 3, 1, 1), (2, 3, 3, 3), True, dict(padding=1)),      # the trimmed kernel
    "winograd": ((1, 4, 10, 10), (4, 4, 3, 3), True, dict(padding=1)),
    "depthwise": ((2, 3, 5, 5), (3, 1, 3, 3), True, dict(padding=1, groups=3)),
}


@pytest.mark.parametrize("name", list(CONV2D))
def test_conv2d_second_derivatives_match_torch(name):
    xs, ws, bias, kw = CONV2D[name]
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + \
        ([rng.standard_normal(ws[0])] if bias else [])

    def f(lib, x, w, b=None):
        return F(lib).conv2d(x, w, b, **kw)
    assert_like_torch(f, arrays, names=not bias)  # (torch's bias gradient is its conv node's)


def test_conv1d_second_derivatives_match_torch():
    def f(lib, x, w, b):
        return F(lib).conv1d(x, w, b, stride=2, padding=1, dilation=2)
    assert_like_torch(f, [rng.standard_normal((2, 3, 11)), rng.standard_normal((4, 3, 3)),
                          rng.standard_normal(4)], names=False)


def test_conv_transpose2d_second_derivatives_match_torch():
    def f(lib, x, w, b):
        return F(lib).conv_transpose2d(x, w, b, stride=2, padding=1, groups=2)
    assert_like_torch(f, [rng.standard_normal((2, 4, 4, 3)), rng.standard_normal((4, 3, 3, 3)),
                          rng.standard_normal(6)], names=False)


def test_conv_gradients_differentiate_to_the_third_order_as_torch():
    """The conv's gradient ops are differentiable themselves: d3/dx3 of a cubic through a conv."""
    x0, w0 = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))

    def run(lib):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        y = F(lib).conv2d(x, w, padding=1, stride=2)
        (g,) = lib.autograd.grad((y ** 3).sum(), [x], create_graph=True)
        gx, gw = lib.autograd.grad((g * g).sum(), [x, w], create_graph=True)
        return [as_np(t) for t in (g, gx, gw, *lib.autograd.grad((gx * gw.sum()).sum(), [x, w]))]
    for e, g in zip(run(torch), run(mt)):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10)


def test_conv2d_and_batch_norm_pass_gradgradcheck():
    x = mt.tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    w = mt.tensor(rng.standard_normal((4, 1, 2, 2)), requires_grad=True)
    gamma = mt.tensor(rng.uniform(0.5, 1.5, 4), requires_grad=True)
    assert mt.autograd.gradgradcheck(
        lambda x, w, gamma: F(mt).batch_norm(F(mt).conv2d(x, w, stride=2, groups=2, padding=1),
                                             None, None, gamma, None, training=True),
        [x, w, gamma])


BATCH_NORM = {
    "train_affine": dict(training=True, affine=True, shape=(4, 3, 3, 2)),
    "train_plain": dict(training=True, affine=False, shape=(5, 3)),
    "eval_affine": dict(training=False, affine=True, shape=(2, 3, 4)),
    "eval_plain": dict(training=False, affine=False, shape=(2, 3, 2, 2)),
}


@pytest.mark.parametrize("name", list(BATCH_NORM))
def test_batch_norm_second_derivatives_match_torch(name):
    cfg = BATCH_NORM[name]
    mean, var = rng.standard_normal(3) * 0.3, rng.uniform(0.5, 2.0, 3)
    arrays = [rng.standard_normal(cfg["shape"]) * 2 + 1]
    if cfg["affine"]:
        arrays += [rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)]

    def f(lib, x, w=None, b=None):
        return F(lib).batch_norm(x, lib.tensor(mean), lib.tensor(var), w, b,
                                 training=cfg["training"], momentum=0.1, eps=1e-3)
    assert_like_torch(f, arrays, names=False)


def test_fused_batch_norm_relu_second_derivatives_match_torch():
    """The BatchNorm + ReLU node that nn.fuse makes inside models: ReLU's mask is a constant."""
    from minitorch.nn.functional import _batch_norm
    arrays = [rng.standard_normal((4, 3, 2, 2)), rng.uniform(0.5, 1.5, 3),
              rng.standard_normal(3)]

    def f(lib, x, w, b):
        if lib is torch:
            return F(lib).batch_norm(x, None, None, w, b, training=True).relu()
        return _batch_norm(x, None, None, w, b, True, 0.1, 1e-5, relu=True)
    assert_like_torch(f, arrays, names=False)


@pytest.mark.parametrize("kw", [{}, dict(padding_idx=2), dict(scale_grad_by_freq=True),
                                dict(padding_idx=0, scale_grad_by_freq=True)])
def test_embedding_second_derivatives_match_torch(kw):
    idx = np.array([[0, 2, 2], [3, 0, 1]])

    def f(lib, w):
        return F(lib).embedding(lib.tensor(idx), w, **kw) ** 2
    assert_like_torch(f, [rng.standard_normal((5, 3))])


@pytest.mark.parametrize("mode,pad", [("constant", (1, 2, 0, 1)), ("constant", (-1, 2)),
                                      ("reflect", (2, 1, 1, 2)), ("replicate", (1, 2)),
                                      ("circular", (1, 2, 2, 0)), ("reflect", (1, 1, 1, 1, 1, 0))])
def test_pad_second_derivatives_match_torch(mode, pad):
    shape = {6: (1, 2, 3, 4, 5), 4: (2, 3, 4, 5), 2: (2, 3, 5)}[len(pad)]

    def f(lib, x):
        return F(lib).pad(x, pad, mode=mode) ** 2
    assert_like_torch(f, [rng.standard_normal(shape)], names=mode != "circular")


def test_hessian_vector_product_through_a_conv_net_matches_torch():
    """Hv of a small CNN's loss with respect to its weights (a conv, batch norm, pool, linear
    classifier and cross-entropy), by double backward."""
    x0 = rng.standard_normal((4, 2, 6, 6))
    y0 = np.array([0, 2, 1, 2])
    params0 = [rng.standard_normal((4, 2, 3, 3)) * 0.5, rng.standard_normal(4) * 0.1,
               rng.uniform(0.5, 1.5, 4), rng.standard_normal(4) * 0.1,
               rng.standard_normal((3, 36)) * 0.3]
    v0 = [rng.standard_normal(p.shape) for p in params0]

    def run(lib):
        params = [lib.tensor(p, requires_grad=True) for p in params0]
        w, b, gamma, beta, fc = params
        h = F(lib).conv2d(lib.tensor(x0), w, b, padding=1)
        h = F(lib).batch_norm(h, None, None, gamma, beta, training=True)
        h = F(lib).max_pool2d(F(lib).elu(h), 2).reshape(4, -1)
        loss = F(lib).cross_entropy(F(lib).linear(h, fc), lib.tensor(y0))
        grads = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, v0))
        return [as_np(t) for t in lib.autograd.grad(dot, params)]
    for e, g in zip(run(torch), run(mt)):
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-10)


def test_first_order_conv_graph_has_no_tensors_or_gradient_ops():
    """create_graph=False is the training path as before: the gradients are plain leaves."""
    x = mt.randn(2, 3, 6, 6, requires_grad=True)
    w = mt.randn(4, 3, 3, 3, requires_grad=True)
    gx, gw = mt.autograd.grad(F(mt).conv2d(x, w, padding=1).pow(2).sum(), [x, w])
    assert gx.grad_fn is None and gw.grad_fn is None
    assert not gx.requires_grad and not gw.requires_grad
