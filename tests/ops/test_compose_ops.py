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


def _arrangement_inputs(lib):
    return {"a": lib.arange(6).reshape(2, 3), "f": lib.arange(24.).reshape(2, 3, 4),
            "g": lib.arange(60.).reshape(3, 4, 5) / 10, "v": lib.tensor([1., 2., 3.]),
            "s0": lib.tensor(2.)}


ARRANGEMENTS = [
    "lib.atleast_1d(s0)", "lib.atleast_2d(v)", "lib.atleast_3d(v)", "lib.atleast_3d(a)",
    "lib.atleast_3d(s0)", "lib.atleast_1d(s0, v)[0]", "lib.atleast_2d([v, a])[1]",
    "lib.dstack([v, v])", "lib.dstack([a, a])", "lib.column_stack([v, v])",
    "lib.rot90(a)", "lib.rot90(a, 2)", "lib.rot90(a, -1)", "lib.rot90(f, 1, [1, 2])",
    "lib.rot90(a, 1, [0, 0])", "a.rot90(3)", "lib.flipud(a)", "lib.fliplr(a)", "lib.fliplr(v)",
    "lib.tensordot(f, g, dims=2)", "lib.tensordot(f, g, dims=([1], [0]))",
    "lib.tensordot(f, g, dims=[[1, 2], [0, 1]])", "lib.tensordot(f, g, dims=0)",
    "lib.tensordot(f, g, dims=([0], [0]))", "lib.kron(a, a)", "lib.kron(v, a.float())",
    "lib.kron(f[0], v)", "a.kron(a)", "lib.take_along_dim(a, lib.tensor([[0, 2]]), 1)",
    "lib.take_along_dim(a, lib.tensor([5, 0]))",
    "lib.take_along_dim(f, lib.tensor([[[1], [0], [3]]]), 2)",
    "a.take_along_dim(lib.tensor([[1], [0]]), dim=1)", "lib.tril_indices(3, 4, 1)",
    "lib.triu_indices(3, 3, -1)", "lib.tril_indices(4, 2)",
    "lib.triu_indices(3, 5, 2, dtype=lib.int32)",
]


def _in_both(expr, inputs):
    """(minitorch's, torch's) (dtype, shape, values rounded) of ``expr``, or ("error", type)."""
    results = []
    for lib in (mt, torch):
        try:
            out = eval(expr, dict(inputs(lib), lib=lib))  # noqa: S307 - test expressions only
            results.append((str(out.dtype).split(".")[-1], tuple(out.shape),
                            np.asarray(out.detach().numpy(), float).round(6).tolist()))
        except Exception as e:  # noqa: BLE001 - an error is a result here
            results.append(("error", type(e).__name__))
    return results


@pytest.mark.parametrize("expr", ARRANGEMENTS)
def test_arrangements_match_torch(expr):
    ours, theirs = _in_both(expr, _arrangement_inputs)
    # tensordot and kron are BLAS products: their sums may round differently from torch's (one
    # float32 ulp, machine-dependent); everything else is exact
    assert ours[:2] == theirs[:2]
    if ours[0] != "error":
        np.testing.assert_allclose(ours[2], theirs[2], rtol=3e-7, atol=0)


@pytest.mark.parametrize("expr", [
    "lib.tensordot(x, y.reshape(3, 2), dims=1)", "lib.tensordot(x, y, dims=([0, 1], [0, 1]))",
    "lib.kron(x, y)", "lib.take_along_dim(x, idx, 1) * 3", "lib.rot90(x * y, 1)",
    "lib.dstack([x, y]) * lib.dstack([y, x])", "lib.column_stack([x[0], y[1]]) ** 2",
    "lib.atleast_3d(x * y)"])
def test_arrangement_gradients_match_torch(expr):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3)) for _ in range(2)]
    grads = []
    for lib in (torch, mt):
        x, y = (lib.tensor(a, requires_grad=True) for a in arrays)
        idx = lib.tensor([[2, 0], [1, 1]])
        out = eval(expr, {"lib": lib, "x": x, "y": y, "idx": idx})  # noqa: S307
        (out * out).sum().backward()
        grads.append((out.detach().numpy(), x.grad.numpy(),
                      None if y.grad is None else y.grad.numpy()))
    for theirs, ours in zip(*grads):
        assert (theirs is None) == (ours is None)
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def _counting_inputs(lib):
    return {"x": lib.tensor([3, 1, 3, 2]), "m": lib.tensor([[1, 2], [1, 2], [0, 1]]),
            "n": lib.tensor([3., float("nan"), 1., float("nan")]),
            "s": lib.tensor([1., 3., 5., 7.]), "v": lib.tensor([[3., 6.], [0., 9.]]),
            "s2": lib.tensor([[1., 3., 5.], [2., 4., 6.]]), "v2": lib.tensor([[3., 6.], [1., 5.]]),
            "b": lib.tensor([1, 3, 3, 0, 7]), "w": lib.tensor([0.5, 1., 1., 2., 0.25])}


COUNTING = [
    "lib.unique(x)", "lib.unique(x, return_inverse=True)[1]",
    "lib.unique(x, return_counts=True)[1]", "lib.unique(x, return_inverse=True, "
    "return_counts=True)[2]", "lib.unique(m, dim=0)", "lib.unique(m, dim=0, return_counts=True)[1]",
    "lib.unique(m, dim=0, return_inverse=True)[1]", "lib.unique(n)", "x.unique()",
    "lib.unique(m, dim=1)", "lib.unique(lib.tensor([[2, 1], [1, 2]]), return_inverse=True)[1]",
    "lib.bincount(b)", "lib.bincount(b, weights=w)", "lib.bincount(b, weights=w.double())",
    "lib.bincount(b, minlength=10)", "lib.bincount(lib.tensor([-1]))", "lib.bincount(m)",
    "lib.bincount(lib.tensor([1.0]))", "lib.bincount(b, weights=lib.tensor([1, 2, 3, 4, 5]))",
    "b.bincount()", "lib.searchsorted(s, v)", "lib.searchsorted(s, v, right=True)",
    "lib.searchsorted(s, v, side='right')", "lib.searchsorted(s, v, out_int32=True)",
    "lib.searchsorted(s2, v2)", "lib.searchsorted(s2, v2, right=True)", "lib.bucketize(v, s)",
    "lib.bucketize(v, s, right=True)", "v.bucketize(s)", "lib.searchsorted(s, lib.tensor(4.0))",
    "lib.bucketize(v, s2)", "lib.searchsorted(s2, v)",
]


@pytest.mark.parametrize("expr", COUNTING)
def test_counting_and_searching_match_torch(expr):
    ours, theirs = _in_both(expr, _counting_inputs)
    assert str(ours) == str(theirs)   # (as strings: NaN equals NaN)


def _median_inputs(lib):
    return {"x": lib.tensor([[3., 1., 2., 5.], [float("nan"), 1., 0., 2.]]),
            "i": lib.tensor([4, 1, 3, 2]), "b": lib.tensor([True, False])}


MEDIANS = [   # (minitorch/_ops_sort.py's median, beside sort and topk)
    "lib.median(x)", "lib.median(x, 1)[0]", "lib.median(x, 1)[1]",
    "lib.median(x, 0, keepdim=True)[0]", "lib.median(x, 0, keepdim=True)[1]", "lib.median(i)",
    "x[0].median()", "x.median(dim=-1).values", "x.median(dim=-1).indices", "lib.median(b)",
    "lib.median(lib.zeros(0))", "lib.median(lib.tensor(3.), 0)[0]",
    "lib.median(lib.tensor(3.), 0)[1]", "lib.median(lib.tensor(3.))",
]


@pytest.mark.parametrize("expr", MEDIANS)
def test_median_matches_torch(expr):
    ours, theirs = _in_both(expr, _median_inputs)
    assert str(ours) == str(theirs)


def test_median_gradient_reaches_the_chosen_element_as_torch():
    results = []
    for lib in (torch, mt):
        y = lib.tensor([[3., 1., 2., 5.], [4., 1., 0., 2.]], requires_grad=True)
        along = lib.median(y, 1)
        (along.values * lib.tensor([1., 2.])).sum().backward()
        z = lib.tensor([[3., 1., 2., 5.]], requires_grad=True)
        whole = lib.median(z)
        whole.backward()
        results.append((y.grad.tolist(), z.grad.tolist(), along.values.grad_fn.name(),
                        whole.grad_fn.name()))
    assert results[0] == results[1]


def _indexing_inputs(lib):
    return {"x": lib.zeros(3, 4), "idx": lib.tensor([0, 2, 0]),
            "s": lib.arange(12.).reshape(3, 4)}


INDEXING = [   # (minitorch/_ops_index_compose.py and the rest of _ops_arrange.py)
    "x.index_add(0, idx, s, alpha=2)", "lib.index_add(x, 1, lib.tensor([3, 0, 1, 1]), s)",
    "x.index_copy(0, lib.tensor([2, 0, 1]), s)", "x.index_fill(1, lib.tensor([1, 3]), -1.)",
    "x.clone().index_add_(0, idx, s)", "x.clone().index_fill_(0, lib.tensor([1]), 2.5)",
    "x.clone().index_copy_(1, lib.tensor([3, 2, 1, 0]), s)",
    "x.index_add(0, lib.tensor([[0]]), s[:1])",
    "lib.cross(lib.tensor([[1., 0, 0]]), lib.tensor([[0., 1, 0]]), dim=1)",
    "lib.cross(s[:, :3], s[:, 1:], dim=1)", "lib.cross(lib.ones(3, 2), lib.ones(3, 2), dim=0)",
    "lib.cross(lib.ones(2, 4), lib.ones(2, 4), dim=1)",
    "lib.block_diag(lib.ones(2, 2), lib.tensor([[5.]]), lib.tensor([1., 2.]))",
    "lib.block_diag(lib.tensor([1, 2]), lib.ones(1, 1))",
    "lib.cartesian_prod(lib.tensor([1, 2]), lib.tensor([3, 4, 5]))",
    "lib.cartesian_prod(lib.tensor([1, 2]))", "lib.ones(2, 6).unflatten(1, (2, 3))",
    "lib.ones(2, 6).unflatten(-1, (-1, 3))", "lib.unflatten(lib.ones(2, 6), 0, (1, 2))",
]


@pytest.mark.parametrize("expr", INDEXING)
def test_index_ops_and_products_match_torch(expr):
    ours, theirs = _in_both(expr, _indexing_inputs)
    assert ours == theirs


@pytest.mark.parametrize("expr", [
    "a.index_add(0, lib.tensor([0, 2, 0]), src, alpha=2)",
    "a.index_copy(0, lib.tensor([2, 0, 1]), src)", "a.index_fill(1, lib.tensor([1]), 5.) * src",
    "lib.cross(a[:, :3], src[:, 1:], dim=1)",
    "lib.block_diag(a, src[:1]) * 2", "lib.cartesian_prod(a[0], src[1])"])
def test_index_op_gradients_match_torch(expr):
    grads = []
    for lib in (torch, mt):
        a = lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        src = lib.tensor(np.linspace(2, 0, 12).reshape(3, 4), requires_grad=True)
        out = eval(expr, {"lib": lib, "a": a, "src": src})  # noqa: S307
        (out * out).sum().backward()
        grads.append((out.detach().numpy(), a.grad.numpy(), src.grad.numpy()))
    for theirs, ours in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("a,b", [("int64", "float32"), ("float64", "float32"), ("bool", "int64")])
def test_isclose_of_two_dtypes_raises_torchs_message(a, b):
    messages = []
    for lib in (torch, mt):
        with pytest.raises(RuntimeError) as info:
            lib.isclose(lib.zeros(2, dtype=getattr(lib, a)), lib.zeros(2, dtype=getattr(lib, b)))
        messages.append(str(info.value))
    assert messages[1] == messages[0]
