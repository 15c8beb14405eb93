"""User-defined ``autograd.Function`` (Tensor forward/backward), live against torch.

Each case is a small program run once with ``lib = torch`` and once with ``lib = minitorch``; it
returns named values (arrays, flags, names) and the errors it met, which must agree: values to
float32 rounding, errors by type and by the start of their message.
"""
import re

import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def _x(lib, shape=(2, 3), seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return lib.tensor(data, requires_grad=requires_grad)


def _np(t):
    return None if t is None else np.array(t.detach().numpy(), copy=True)


class _Errors(dict):
    def catch(self, name, fn):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - the error itself is what is compared
            self[name] = (type(e).__name__, str(e))
            return None


def _functions(lib):
    """The Functions the cases use, defined against ``lib`` as a user would."""

    class MyReLU(lib.autograd.Function):  # "PyTorch: Defining New autograd Functions"
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class ExpSaved(lib.autograd.Function):  # saves its own output
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class Scale(lib.autograd.Function):  # a non-tensor argument, kept on ctx
        @staticmethod
        def forward(ctx, x, k, y):
            ctx.k = k
            return x * k + y

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None, grad

    class Cube(lib.autograd.Function):  # differentiable backward: second derivatives follow
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    class CubeOnce(Cube):
        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    class Split(lib.autograd.Function):  # two outputs; one is not differentiable
        @staticmethod
        def forward(ctx, x):
            mask = x > 0
            ctx.mark_non_differentiable(mask)
            return x * 2, mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            return grad * 2

    class Pair(lib.autograd.Function):  # two outputs, grads not materialized
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.seen = (g1 is None, g2 is None)
            total = None
            for g, k in ((g1, 1), (g2, 2)):
                if g is not None:
                    total = g * k if total is None else total + g * k
            return total

    class Ident(lib.autograd.Function):  # returns its input as-is
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Flat(lib.autograd.Function):  # returns a view of its input
        @staticmethod
        def forward(ctx, x):
            return x.view(-1)

        @staticmethod
        def backward(ctx, grad):
            return grad.view(2, 3)

    class Double_(lib.autograd.Function):  # in place, marked dirty
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class Broad(lib.autograd.Function):  # a gradient bigger than the input, of another dtype
        @staticmethod
        def forward(ctx, b):
            return b * 1

        @staticmethod
        def backward(ctx, grad):
            return grad.double().expand(4, 3) * 1

    class Setup(lib.autograd.Function):  # forward without ctx, setup_context
        @staticmethod
        def forward(x, w):
            return x * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w, grad * x

    def bad(backward):
        return type("Bad", (lib.autograd.Function,), {
            "forward": staticmethod(lambda ctx, x, k=1: x * k),
            "backward": staticmethod(backward)})

    return dict(MyReLU=MyReLU, ExpSaved=ExpSaved, Scale=Scale, Cube=Cube, CubeOnce=CubeOnce,
                Split=Split, Pair=Pair, Ident=Ident, Flat=Flat, Double_=Double_, Broad=Broad,
                Setup=Setup, bad=bad)


@case
def relu_tutorial(lib, f, err):
    x = _x(lib)
    y = f["MyReLU"].apply(x)
    (y * y).sum().backward()
    return dict(y=_np(y), grad=_np(x.grad), name=type(y.grad_fn).__name__,
                fn=y.grad_fn.name(), leaf=y.is_leaf)


@case
def saved_output_and_twice(lib, f, err):
    x = _x(lib)
    y = f["ExpSaved"].apply(x)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    g = _np(x.grad)
    err.catch("third", lambda: y.sum().backward())
    z = f["ExpSaved"].apply(x)
    z.mul_(2)
    err.catch("modified", lambda: z.sum().backward())
    return dict(g=g)


@case
def non_tensor_arguments(lib, f, err):
    x, y = _x(lib), _x(lib, seed=1)
    out = f["Scale"].apply(x, 3.0, y)
    out.sum().backward()
    return dict(out=_np(out), gx=_np(x.grad), gy=_np(y.grad))


@case
def double_backward(lib, f, err):
    x = _x(lib, (4,))
    y = f["Cube"].apply(x)
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    y2 = f["CubeOnce"].apply(x)
    (g2,) = lib.autograd.grad(y2.sum(), x, create_graph=True)
    err.catch("once", lambda: lib.autograd.grad(g2.sum(), x))
    return dict(g=_np(g), gg=_np(gg), g2=_np(g2), g_req=g.requires_grad)


@case
def non_differentiable_output(lib, f, err):
    x = _x(lib)
    a, mask = f["Split"].apply(x)
    a.sum().backward()
    return dict(a=_np(a), mask=_np(mask), mask_req=mask.requires_grad, grad=_np(x.grad))


@case
def unmaterialized_grads(lib, f, err):
    x = _x(lib)
    a, b = f["Pair"].apply(x)
    a.sum().backward()
    return dict(grad=_np(x.grad), seen=a.grad_fn.seen if hasattr(a.grad_fn, "seen") else None)


@case
def input_returned_as_is(lib, f, err):
    x = _x(lib)
    h = x * 1
    y = f["Ident"].apply(h)
    flags = dict(same=y is h, view=y._is_view(), fn=y.grad_fn.name())
    err.catch("inplace", lambda: y.add_(1))
    h2 = x * 1
    y2 = f["Ident"].apply(h2)
    h2.add_(1)
    err.catch("base_changed", lambda: y2.grad_fn)
    with lib.no_grad():
        y3 = f["Ident"].apply(h)
    flags.update(nograd_same=y3 is h, nograd_view=y3._is_view())
    plain = f["Ident"].apply(_x(lib, requires_grad=False))
    flags.update(plain_view=plain._is_view(), plain_req=plain.requires_grad)
    return flags


@case
def view_of_input(lib, f, err):
    x = _x(lib)
    h = x * 1
    y = f["Flat"].apply(h)
    flags = dict(view=y._is_view(), base=y._base is h)
    err.catch("inplace", lambda: y.mul_(2))
    y.sum().backward()
    return dict(flags, grad=_np(x.grad))


@case
def mark_dirty(lib, f, err):
    x = _x(lib)
    h = x * 1
    v0 = h._version
    out = f["Double_"].apply(h)
    flags = dict(same=out is h, fn=h.grad_fn.name(), bumped=h._version - v0)
    out.sum().backward()
    err.catch("leaf", lambda: f["Double_"].apply(_x(lib)))
    return dict(flags, grad=_np(x.grad), h=_np(h))


@case
def gradient_summed_and_cast(lib, f, err):
    b = _x(lib, (3,))
    f["Broad"].apply(b).sum().backward()
    return dict(grad=_np(b.grad), dtype=str(b.grad.dtype).rsplit(".", 1)[-1])


@case
def setup_context_style(lib, f, err):
    x, w = _x(lib), _x(lib, seed=2)
    out = f["Setup"].apply(x, w)
    out.sum().backward()
    return dict(out=_np(out), gx=_np(x.grad), gw=_np(w.grad))


@case
def bad_backwards(lib, f, err):
    bad = f["bad"]
    x = _x(lib, (3,))
    err.catch("count", lambda: bad(lambda ctx, g: (g, g, g)).apply(x).sum().backward())
    err.catch("shape", lambda: bad(lambda ctx, g: lib.ones(4)).apply(x).sum().backward())
    err.catch("float", lambda: bad(lambda ctx, g: 3.0).apply(x).sum().backward())
    err.catch("nontensor", lambda: bad(lambda ctx, g: (g, g)).apply(x, 2).sum().backward())
    err.catch("fewer", lambda: bad(lambda ctx, g: g).apply(x, 2).sum().backward())
    extra = bad(lambda ctx, g: (g, None, None)).apply(x, 2)
    extra.sum().backward()
    return dict(grad=_np(x.grad))


@case
def save_non_tensor(lib, f, err):
    class Saver(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(3)
            return x * 1
    err.catch("save", lambda: Saver.apply(_x(lib)))
    return {}


@case
def no_grad_apply(lib, f, err):
    x = _x(lib)
    with lib.no_grad():
        y = f["MyReLU"].apply(x)
    return dict(req=y.requires_grad, fn=y.grad_fn is None, y=_np(y))


@case
def backward_hook_output_inplace(lib, f, err):
    m = lib.nn.Linear(3, 3)
    m.register_full_backward_hook(lambda mod, gi, go: None)
    y = m(_x(lib))
    err.catch("inplace", lambda: y.add_(1))
    return dict(fn=y.grad_fn.name())


def _normal(message):
    message = re.sub(r"^[a-z_]+_: ", "", message)   # minitorch names the in-place op first
    return message.replace("torch.", "minitorch.").replace("minitorch.minitorch", "minitorch")[:60]


def _run(lib, name):
    err = _Errors()
    values = CASES[name](lib, _functions(lib), err)
    return values, err


@pytest.mark.parametrize("name", sorted(CASES))
def test_custom_function_matches_torch(name):
    ref, ref_err = _run(torch, name)
    mine, mine_err = _run(minitorch, name)
    assert sorted(mine_err) == sorted(ref_err), (mine_err, ref_err)
    for key, (kind, message) in ref_err.items():
        assert mine_err[key][0] == kind, (key, mine_err[key], message)
        assert _normal(mine_err[key][1]) == _normal(message), (key, mine_err[key][1], message)
    assert sorted(mine) == sorted(ref)
    for key, value in ref.items():
        if isinstance(value, np.ndarray):
            assert mine[key].dtype == value.dtype, key
            np.testing.assert_allclose(mine[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
        else:
            assert mine[key] == value, (key, mine[key], value)


def test_library_ops_still_compute_on_arrays():
    """The library's own Function base (arrays in, arrays out) is a different class."""
    from minitorch.autograd.function import Function as ArrayFunction
    assert ArrayFunction is not minitorch.autograd.Function
    assert minitorch.autograd.Function.__module__ == "minitorch.autograd.custom_function"
