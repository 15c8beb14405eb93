"""The composed ops (``minitorch/_ops_compose.py``) live against torch 2.13: value, dtype and
shape or an error of the same type, then gradients (first and second order) and the in-place
forms."""
import warnings

import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

_INPUTS = {
    "f": ([[1.5, -2.0, 0.0], [0.25, 3.0, float("nan")]], "float32"),
    "g": ([[0.5, 2.0, -1.0], [1.0, -0.5, 2.0]], "float32"),
    "i": ([[4, -7, 0], [3, 5, -1]], "int64"),
    "p": ([[0.2, 0.5, 0.9], [0.1, 0.7, 0.3]], "float32"),
    "inf": ([float("inf"), float("-inf"), float("nan"), 1.0], "float32"),
    "b": ([True, False, True], "bool"),
    "v": ([1.0, 2.0, 4.0], "float32"),
    "w": ([3.0, 5.0], "float32"),
    "m": ([[1.0, 2.0], [3.0, 4.0]], "float64"),
}

EXPRESSIONS = [
    "lib.lerp(f, g, 0.3)", "lib.lerp(f, g, 0.7)", "lib.lerp(f, g, p)", "f.lerp(g, 0.5)",
    "lib.lerp(i, i, 0.5)", "lib.lerp(f, i, 0.5)",
    "lib.addcmul(f, g, p, value=0.5)", "lib.addcmul(i, i, i, value=2)",
    "lib.addcdiv(f, g, p, value=2)", "lib.addcdiv(i, i, i)",
    "lib.clamp_min(f, 0.5)", "lib.clamp_max(i, 2)", "f.clamp_min(0)",
    "lib.hypot(f, g)", "lib.hypot(i, i)", "lib.hypot(f, i)",
    "lib.logaddexp(f, g)", "lib.logaddexp2(f, g)", "lib.logaddexp(i, i)",
    "lib.xlogy(f, g)", "lib.xlogy(i, p)", "lib.xlogy(f, 2.0)",
    "lib.xlogy(lib.zeros(2), lib.tensor([0., float('nan')]))",
    "lib.deg2rad(f)", "lib.rad2deg(i)", "lib.logit(p)", "lib.logit(p, eps=0.25)",
    "lib.nansum(f)", "lib.nansum(f, 1)", "lib.nansum(i)", "lib.nanmean(f)",
    "lib.nanmean(f, 0, keepdim=True)", "lib.nanmean(i)",
    "lib.count_nonzero(f)", "lib.count_nonzero(i, 0)", "lib.count_nonzero(i, (0, 1))",
    "lib.isclose(f, f)", "lib.isclose(f, f, equal_nan=True)", "lib.isclose(f, g, atol=2)",
    "lib.isclose(i, f)", "lib.isclose(i, i)",
    "lib.nan_to_num(inf)", "lib.nan_to_num(inf, nan=1.0, posinf=2.0, neginf=-3.0)",
    "lib.nan_to_num(i)", "inf.nan_to_num()",
    "lib.trace(m)", "lib.trace(i)", "lib.trace(v)",
    "lib.diff(f)", "lib.diff(i, n=2, dim=0)", "lib.diff(v, prepend=w, append=v)", "lib.diff(b)",
    "lib.diff(f, dim=0)",
    "lib.std_mean(g)[0]", "lib.std_mean(g)[1]", "lib.var_mean(g, 1)[0]",
    "lib.var_mean(g, 1, keepdim=True)[1]", "lib.std_mean(g, 0, correction=0)[0]",
    "lib.ravel(f.t())", "lib.swapaxes(f, 0, 1)", "lib.swapdims(f, 0, 1)", "f.swapaxes(0, 1)",
    "lib.clone(f)", "lib.t(f)", "lib.broadcast_to(v, (2, 3))",
    "lib.broadcast_tensors(v, g)[0]", "lib.broadcast_tensors(v, g)[1]",
    "lib.hstack([v, v])", "lib.hstack([f, g])", "lib.vstack([v, v])", "lib.vstack([f, v])",
    "lib.row_stack([v, v])",
    "lib.meshgrid(v, w)[0]", "lib.meshgrid(v, w)[1]", "lib.meshgrid(v, w, indexing='xy')[0]",
    "lib.meshgrid(v, w, indexing='xy')[1]", "lib.meshgrid([v, w, v], indexing='xy')[2]",
    "lib.meshgrid(v, w, indexing='ij')[1]", "lib.meshgrid(v, w, indexing='yx')[0]",
]


def _run(lib, expr):
    ns = {k: lib.tensor(d, dtype=getattr(lib, dt)) for k, (d, dt) in _INPUTS.items()}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")   # (meshgrid without indexing warns in both)
            out = eval(expr, dict(ns, lib=lib))  # noqa: S307 - test expressions only
    except Exception as e:  # noqa: BLE001 - an error is a result here
        return ("error", type(e).__name__)
    return (str(out.dtype).split(".")[-1], tuple(out.shape), out.detach().numpy().tolist())


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_value_dtype_and_errors_match_torch(expr):
    ours, theirs = _run(mt, expr), _run(torch, expr)
    assert ours[:2] == theirs[:2]
    if ours[0] != "error":
        np.testing.assert_allclose(np.asarray(ours[2], float), np.asarray(theirs[2], float),
                                   rtol=1e-5, atol=1e-6, equal_nan=True)


# (expression over float64 x, y, z of shape (2, 3); the result is summed against a fixed grad)
GRADIENTS = [
    "lib.lerp(x, y, 0.3)", "lib.lerp(x, y, 0.8)", "lib.lerp(x, y, z.sigmoid())",
    "lib.addcmul(x, y, z, value=0.5)", "lib.addcdiv(x, y, z.exp(), value=2)",
    "lib.hypot(x, y)", "lib.logaddexp(x, y)", "lib.logaddexp2(x, y)",
    "lib.xlogy(x, y.exp())", "lib.logit(z.sigmoid())", "lib.nansum(x * y, 1)",
    "lib.nanmean(x * y, 0)", "lib.trace(x @ y.t())", "lib.diff(x * y, n=2)",
    "lib.std_mean(x, 1)[0] * lib.std_mean(x, 1)[1]", "lib.var_mean(x * y)[0]",
    "lib.hstack([x, y])", "lib.vstack([x, y[0]])", "lib.broadcast_to(x[0], (4, 3)) * 2",
    "lib.meshgrid(x[0], y[1], indexing='xy')[0] * lib.meshgrid(x[0], y[1], indexing='xy')[1]",
    "lib.deg2rad(x) * y", "lib.clamp_min(x, 0.1) * lib.clamp_max(y, 0.2)",
]


@pytest.mark.parametrize("expr", GRADIENTS)
def test_gradients_match_torch_to_the_second_order(expr):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)) + 0.05 for _ in range(3)]
    results = []
    for lib in (torch, mt):
        x, y, z = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = eval(expr, {"lib": lib, "x": x, "y": y, "z": z})  # noqa: S307
        grad = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        first = lib.autograd.grad((out * grad).sum(), [x, y, z], create_graph=True,
                                  allow_unused=True)
        used = [g for g in first if g is not None and g.requires_grad]
        second = lib.autograd.grad(sum((g * g).sum() for g in used), [x, y, z],
                                   allow_unused=True) if used else ()   # (linear: constants)
        results.append([out.detach().numpy()] + [None if g is None else g.detach().numpy()
                                                 for g in (*first, *second)])
    assert len(results[0]) == len(results[1])   # (the same gradients were differentiable)
    for theirs, ours in zip(*results):
        assert (theirs is None) == (ours is None)
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("expr", ["x.lerp_(y, 0.25)", "x.addcmul_(y, y, value=3)",
                                  "x.addcdiv_(y, y + 3)", "x.clamp_min_(0.0)",
                                  "x.nan_to_num_(posinf=1.0)", "x.hypot_(y)", "x.xlogy_(y + 3)",
                                  "x.deg2rad_()", "x.logit_(eps=0.1)"])
def test_inplace_forms_write_into_the_tensor_as_torch(expr):
    results = []
    for lib in (torch, mt):
        x = lib.tensor([[0.5, float("inf"), -1.5]])
        y = lib.tensor([[0.25, 2.0, 1.0]])
        out = eval(expr, {"x": x, "y": y})  # noqa: S307
        assert out is x
        results.append(x.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, equal_nan=True)
