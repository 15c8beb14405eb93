"""create_graph=True: second derivatives of every supported op against torch (float64, live),
gradgradcheck, a small MLP's Hessian, a gradient-penalty training step, the error of an op without
double backward, and that ordinary backward keeps nothing extra alive."""
import gc
import weakref

import numpy as np
import pytest

import minitorch as mt
from minitorch.autograd.function import Function as ArrayFunction
from minitorch.autograd import functional as AF

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _pair(*arrays):
    """The same float64 leaves in both libraries."""
    return ([torch.tensor(a, requires_grad=True) for a in arrays],
            [mt.tensor(a, requires_grad=True) for a in arrays])


def _second(lib, fn, xs, w, v):
    """g = d<w, fn(xs)>/dxs (recorded), then d<v, g>/dxs: the Hessian-vector products."""
    out = fn(lib, *xs)
    y = (out * lib.tensor(w)).sum()
    gs = lib.autograd.grad(y, xs, create_graph=True)
    total = sum((g * lib.tensor(vi)).sum() for g, vi in zip(gs, v))
    hv = lib.autograd.grad(total, xs, allow_unused=True)
    return [g.detach().numpy() for g in gs], [None if h is None else h.numpy() for h in hv]


def _pos(shape):
    return RNG.uniform(0.5, 2.0, shape)


def _any(shape):
    return RNG.standard_normal(shape)


# name -> (fn(lib, *xs), input arrays)
OPS = {
    "add": (lambda L, a, b: (a + b) * a, [_any((3, 4)), _any((4,))]),
    "sub": (lambda L, a, b: (a - b) * b, [_any((3, 4)), _any((3, 1))]),
    "mul": (lambda L, a, b: a * b * a, [_any((3, 4)), _any((3, 4))]),
    "div": (lambda L, a, b: a / b, [_any((3, 4)), _pos((3, 4))]),
    "pow_scalar": (lambda L, a: a ** 3, [_any((3, 4))]),
    "pow_tensor": (lambda L, a, b: a ** b, [_pos((3, 4)), _any((3, 4))]),
    "rpow": (lambda L, a: 2.0 ** a, [_any((5,))]),
    "neg": (lambda L, a: -(a * a), [_any((3, 4))]),
    "exp": (lambda L, a: a.exp(), [_any((3, 4))]),
    "log": (lambda L, a: a.log(), [_pos((3, 4))]),
    "sqrt": (lambda L, a: a.sqrt(), [_pos((3, 4))]),
    "abs": (lambda L, a: a.abs() * a, [_any((3, 4))]),
    "tanh": (lambda L, a: a.tanh(), [_any((3, 4))]),
    "sigmoid": (lambda L, a: a.sigmoid(), [_any((3, 4))]),
    "relu": (lambda L, a: a.relu() * a, [_any((3, 4))]),
    "maximum": (lambda L, a, b: L.maximum(a, b) * a, [_any((3, 4)), _any((3, 4))]),
    "minimum": (lambda L, a, b: L.minimum(a, b) * b, [_any((3, 4)), _any((4,))]),
    "where": (lambda L, a, b: L.where(a > 0, a * a, b * a), [_any((3, 4)), _any((3, 4))]),
    "clamp": (lambda L, a: a.clamp(-0.5, 0.5) * a, [_any((3, 4))]),
    "clamp_tensor": (lambda L, a, lo: a.clamp(min=lo) * lo, [_any((3, 4)), _any((4,))]),
    "sum": (lambda L, a: a.sum(1) ** 2, [_any((3, 4))]),
    "sum_keepdim": (lambda L, a: a * a.sum(0, keepdim=True), [_any((3, 4))]),
    "mean": (lambda L, a: a.mean() * a, [_any((3, 4))]),
    "mean_dim": (lambda L, a: a.mean((0, 2)) ** 2, [_any((2, 3, 4))]),
    "var": (lambda L, a: a.var(1), [_any((3, 4))]),
    "var_all": (lambda L, a: a.var() * a, [_any((3, 4))]),
    "std": (lambda L, a: a.std(0), [_any((3, 4))]),
    "std_all": (lambda L, a: a.std(), [_any((3, 4))]),
    "max": (lambda L, a: a.max() * a, [_any((3, 4))]),
    "min_dim": (lambda L, a: a.min(1)[0] ** 2, [_any((3, 4))]),
    "max_dim": (lambda L, a: a.max(0, keepdim=True)[0] * a, [_any((3, 4))]),
    "amax": (lambda L, a: a.amax(1) ** 2, [_any((3, 4))]),
    "amin": (lambda L, a: a.amin() * a, [_any((3, 4))]),
    "softmax": (lambda L, a: a.softmax(1), [_any((3, 4))]),
    "softmax_dim0": (lambda L, a: a.softmax(0), [_any((3, 4, 2))]),
    "log_softmax": (lambda L, a: a.log_softmax(1), [_any((3, 4))]),
    "matmul": (lambda L, a, b: (a @ b) ** 2, [_any((3, 4)), _any((4, 2))]),
    "matmul_batched": (lambda L, a, b: (a @ b) ** 2, [_any((2, 3, 4)), _any((4, 2))]),
    "matmul_vec": (lambda L, a, b: (a @ b) ** 2, [_any((3, 4)), _any((4,))]),
    "matmul_vec_mat": (lambda L, a, b: (a @ b).tanh(), [_any((4,)), _any((4, 2))]),
    "dot": (lambda L, a, b: (a @ b) * a, [_any((4,)), _any((4,))]),
    "linear": (lambda L, x, w, b: L.nn.functional.linear(x, w, b).tanh(),
               [_any((5, 3)), _any((2, 3)), _any((2,))]),
    "reshape": (lambda L, a: a.reshape(4, 3) ** 2, [_any((3, 4))]),
    "view_flatten": (lambda L, a: a.view(-1).exp(), [_any((3, 4))]),
    "permute": (lambda L, a: a.permute(2, 0, 1) ** 3, [_any((2, 3, 4))]),
    "transpose": (lambda L, a: a.t() @ a, [_any((3, 4))]),
    "expand": (lambda L, a: a.expand(3, 4) * a.expand(3, 4), [_any((1, 4))]),
    "squeeze_unsqueeze": (lambda L, a: a.unsqueeze(0).squeeze(1) ** 2, [_any((3, 1, 4))]),
    "slice": (lambda L, a: a[1:, ::2] ** 2, [_any((3, 4))]),
    "select": (lambda L, a: a[1] * a[2], [_any((3, 4))]),
    "index": (lambda L, a: a[[0, 2, 0]] ** 2, [_any((3, 4))]),
    "index_mask": (lambda L, a: a[a > 0] ** 3, [_any((3, 4))]),
    "cat": (lambda L, a, b: L.cat([a * a, b * a[:, :2]], 1) ** 2, [_any((3, 4)), _any((3, 2))]),
    "stack": (lambda L, a, b: L.stack([a, b * a], 0) ** 2, [_any((3, 4)), _any((3, 4))]),
    "clone_double": (lambda L, a: a.clone().float().double() ** 2, [_any((3,))]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_second_derivative_matches_torch(name):
    fn, arrays = OPS[name]
    tx, mx = _pair(*arrays)
    probe = fn(torch, *tx)
    w = RNG.standard_normal(tuple(probe.shape))
    v = [RNG.standard_normal(a.shape) for a in arrays]
    tg, th = _second(torch, fn, tx, w, v)
    mg, mh = _second(mt, fn, mx, w, v)
    for t, m in zip(tg, mg):
        np.testing.assert_allclose(m, t, rtol=1e-10, atol=1e-10)
    for i, (t, m) in enumerate(zip(th, mh)):
        if t is None or m is None:  # torch: None for an input the first grad does not depend on
            t = np.zeros_like(arrays[i]) if t is None else t
            m = np.zeros_like(arrays[i]) if m is None else m
        np.testing.assert_allclose(m, t, rtol=1e-9, atol=1e-10, err_msg=f"{name} input {i}")


@pytest.mark.parametrize("name", ["mul", "div", "tanh", "softmax", "matmul", "std", "index",
                                  "linear", "pow_tensor"])
def test_gradgradcheck(name):
    fn, arrays = OPS[name]
    xs = [mt.tensor(a, requires_grad=True) for a in arrays]
    assert mt.autograd.gradgradcheck(lambda *z: fn(mt, *z), xs)


class _Cube(ArrayFunction):  # a library op: arrays, and backward_graph for create_graph
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 3 * a * a


def test_gradgradcheck_catches_a_backward_graph_that_forgets_its_saved_input():
    class Cube(_Cube):
        @staticmethod
        def backward_graph(ctx, grad):  # right values, but a is a constant: no 2nd derivative
            (a,) = ctx.saved_tensors
            return grad * 3 * ctx.constant(a * a)

    x = mt.tensor(_any((4,)), requires_grad=True)
    with pytest.raises(mt.autograd.GradcheckError, match="second derivative"):
        mt.autograd.gradgradcheck(Cube.apply, [x])


def test_gradgradcheck_catches_backward_graph_disagreeing_with_backward():
    class Cube(_Cube):
        @staticmethod
        def backward_graph(ctx, grad):  # 2 a^2 instead of 3 a^2
            (a,) = ctx.saved_tensors
            a = ctx.saved_input(0, a)
            return grad * 2 * a * a

    x = mt.tensor(_any((4,)), requires_grad=True)
    with pytest.raises(mt.autograd.GradcheckError, match="disagree"):
        mt.autograd.gradgradcheck(Cube.apply, [x])


def test_flags_of_produced_gradients_match_torch():
    for lib in (torch, mt):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (g_lin,) = lib.autograd.grad((x * 2).sum(), x, create_graph=True)
        (g_sq,) = lib.autograd.grad((x * x).sum(), x, create_graph=True)
        flags = [(g.requires_grad, g.grad_fn is not None, g.is_leaf) for g in (g_lin, g_sq)]
        assert flags == [(False, False, True), (True, True, False)], lib.__name__


def test_backward_create_graph_leaves_a_differentiable_grad():
    res = {}
    for lib in (torch, mt):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = (x ** 3).sum()
        y.backward(create_graph=True)
        first = x.grad
        assert first.requires_grad and first.grad_fn is not None
        y2 = (x * x).sum()
        y2.backward(create_graph=True)  # accumulates out of place, still in the graph
        assert x.grad.grad_fn is not None
        g = x.grad
        x.grad = None
        g.sum().backward()
        res[lib.__name__] = x.grad.detach().numpy().copy()
    np.testing.assert_allclose(res["minitorch"], res["torch"])


def test_retain_graph_defaults_to_create_graph():
    for lib in (torch, mt):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        lib.autograd.grad(y, x, create_graph=True)
        lib.autograd.grad(y, x)  # the graph was kept; this one frees it
        with pytest.raises(RuntimeError, match="second time"):
            lib.autograd.grad(y, x)


def test_grad_outputs_with_history_are_differentiated():
    res = {}
    for lib in (torch, mt):
        x = lib.tensor([0.3, -0.7], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([1.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = x.tanh()
        (g,) = lib.autograd.grad(y, x, grad_outputs=v * v, create_graph=True)
        g.sum().backward()
        res[lib.__name__] = (x.grad.numpy().copy(), v.grad.numpy().copy())
    for m, t in zip(res["minitorch"], res["torch"]):
        np.testing.assert_allclose(m, t)


def test_inplace_ops_and_views_double_backward():
    res = {}
    for lib in (torch, mt):
        x = lib.tensor(_any((3, 4)) if lib is torch else res["x"], requires_grad=True)
        res.setdefault("x", x.detach().numpy().copy())
        b = x * 1.0
        b[1:, 1] *= x[0, 2:]  # in place on a view: CopySlices
        b += x * x
        (g,) = lib.autograd.grad((b * b).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        res[lib.__name__] = (g.detach().numpy().copy(), h.numpy().copy())
    for m, t in zip(res["minitorch"], res["torch"]):
        np.testing.assert_allclose(m, t, rtol=1e-5, atol=1e-6)


def test_hooks_see_and_may_replace_tensor_gradients_under_create_graph():
    res = {}
    for lib in (torch, mt):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g * x)  # a hook that itself depends on x
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        res[lib.__name__] = (g.detach().numpy().copy(), x.grad.numpy().copy())
    for m, t in zip(res["minitorch"], res["torch"]):
        np.testing.assert_allclose(m, t)


def _mlp_params(rng=RNG):
    return [rng.standard_normal((4, 3)) * 0.5, rng.standard_normal(4) * 0.1,
            rng.standard_normal((1, 4)) * 0.5, rng.standard_normal(1) * 0.1]


def _mlp_loss(lib, x, target, w1, b1, w2, b2):
    F = lib.nn.functional
    h = F.linear(x, w1, b1).tanh()
    return ((F.linear(h, w2, b2) - target) ** 2).mean()


def test_hessian_of_a_small_mlp_matches_torch():
    params = _mlp_params()
    x, target = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 1))

    def full_hessian(lib, hessian):
        def loss(*flat):
            return _mlp_loss(lib, lib.tensor(x), lib.tensor(target), *flat)
        ps = tuple(lib.tensor(p) for p in params)
        return hessian(loss, ps)

    th = full_hessian(torch, torch.autograd.functional.hessian)
    mh = full_hessian(mt, AF.hessian)
    for i in range(4):
        for j in range(4):
            np.testing.assert_allclose(mh[i][j].numpy(), th[i][j].numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=f"block {i},{j}")


def test_jacobian_and_hvp_match_torch():
    a = RNG.standard_normal((3, 4))
    v = RNG.standard_normal((3, 4))

    def f(lib):
        return lambda t: (t.tanh() * t).sum(1)

    tj = torch.autograd.functional.jacobian(f(torch), torch.tensor(a))
    mj = AF.jacobian(f(mt), mt.tensor(a))
    np.testing.assert_allclose(mj.numpy(), tj.numpy(), rtol=1e-12)
    g = lambda lib: (lambda t: (t.exp() * t).sum())  # noqa: E731
    tv = torch.autograd.functional.hvp(g(torch), torch.tensor(a), torch.tensor(v))
    mv = AF.hvp(g(mt), mt.tensor(a), mt.tensor(v))
    for m, t in zip(mv, tv):
        np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-12)


def test_gradient_penalty_training_step_matches_torch():
    """WGAN-GP-style: loss + lambda (|d loss / d input| - 1)^2, two SGD steps, float32.

    Its own generator: drawn from the module's, the data depended on which tests had run
    before on the same xdist worker. Over 40 seeds the two libraries' float32 results differed
    by at most 5.7e-6; a wrong second derivative moves them by far more than the tolerance."""
    rng = np.random.default_rng(11)
    params = [p.astype(np.float32) for p in _mlp_params(rng)]
    x = rng.standard_normal((6, 3)).astype(np.float32)
    target = rng.standard_normal((6, 1)).astype(np.float32)
    finals = {}
    for lib in (torch, mt):
        ps = [lib.tensor(p.copy(), requires_grad=True) for p in params]
        opt = lib.optim.SGD(ps, lr=0.1)
        for _ in range(2):
            xi = lib.tensor(x, requires_grad=True)
            loss = _mlp_loss(lib, xi, lib.tensor(target), *ps)
            (gx,) = lib.autograd.grad(loss, xi, create_graph=True)
            penalty = (((gx * gx).sum().sqrt() - 1) ** 2) * 10.0
            opt.zero_grad()
            (loss + penalty).backward()
            opt.step()
        finals[lib.__name__] = [p.detach().numpy().copy() for p in ps]
    for m, t in zip(finals["minitorch"], finals["torch"]):
        np.testing.assert_allclose(m, t, rtol=1e-5, atol=2e-5)


def test_op_without_double_backward_raises_naming_itself():
    x = mt.randn(1, 1, 5, 5, requires_grad=True)
    w = mt.randn(1, 1, 3, 3, requires_grad=True)

    cell = mt.nn.LSTMCell(9, 2)  # (its fused gates have no double backward)

    def f():
        return cell(mt.nn.functional.conv2d(x, w).reshape(1, 9))[0].pow(2).sum()
    (g,) = mt.autograd.grad(f(), x, create_graph=True)  # the first derivative is fine
    (ref,) = mt.autograd.grad(f(), x)
    np.testing.assert_allclose(g.detach().numpy(), ref.numpy(), rtol=1e-6)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match=r"LstmCellBackward0 does not support "
                                           r"create_graph=True \(double backward\)"):
        g.sum().backward(retain_graph=True)  # (the conv's part of g's graph stays)
    with pytest.raises(RuntimeError, match="does not support create_graph=True"):
        mt.autograd.grad(g.sum(), w)


def test_ordinary_backward_keeps_no_tensor_alive():
    """Saved values are arrays: no input or output Tensor is kept by the graph, and after
    backward the nodes free them; create_graph makes Tensors only while it runs."""
    x = mt.randn(8, 4, requires_grad=True)
    w = mt.randn(4, 3, requires_grad=True)
    h = (x @ w).tanh()
    y = (h * h).sum()
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is None, "the graph keeps an intermediate Tensor alive"
    y.backward()
    node = y.grad_fn
    while node is not None and node.next_functions:
        assert not node._saved
        node = node.next_functions[0][0]
    # and a create_graph pass leaves nothing on the forward nodes either
    z = (x.exp() * w.sum()).sum()
    (g,) = mt.autograd.grad(z, x, create_graph=True)
    gref = weakref.ref(g)
    del g
    gc.collect()
    assert gref() is None


def test_plain_backward_is_unchanged_with_create_graph_code_present():
    # the engine's ordinary path still moves arrays: a hook sees a plain Tensor without history
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * x
    y.register_hook(lambda g: seen.append(g.requires_grad))
    y.sum().backward()
    assert seen == [False] and x.grad.grad_fn is None
