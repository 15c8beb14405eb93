"""``minitorch.linalg`` against ``torch.linalg`` 2.13: values, dtypes, errors of the same type,
and gradients to the second order."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(0)
A0 = _rng.standard_normal((3, 3)) + 3 * np.eye(3)
B0 = _rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
b0, M0, x0 = _rng.standard_normal(3), _rng.standard_normal((3, 2)), _rng.standard_normal((2, 3))


def _inputs(lib):
    def t(a, dtype="float64"):
        return lib.tensor(a, dtype=getattr(lib, dtype))
    return {"L": lib.linalg, "A": t(A0), "B": t(B0), "b": t(b0), "M": t(M0),
            "x": t(x0, "float32"), "i": lib.tensor([[1, 2], [3, 4]]), "inf": float("inf")}


EXPRESSIONS = [
    "L.vector_norm(x)", "L.vector_norm(x, 1, dim=1)", "L.vector_norm(x, inf, dim=0, keepdim=True)",
    "L.vector_norm(x, dim=(0, 1))", "L.vector_norm(i)", "L.vector_norm(x, dtype=lib.float64)",
    "L.norm(x)", "L.norm(x, dim=1)", "L.norm(x, 'fro')", "L.norm(x, 3, dim=1)",
    "L.matrix_norm(x)", "L.matrix_norm(x[0])", "L.norm(x[0], 1)", "L.inv(A)", "L.inv(B)",
    "L.det(A)", "L.det(B)", "L.solve(A, b)", "L.solve(B, M)", "L.solve(B, b)",
    "L.solve(A, M.T, left=False)", "L.inv(M)", "L.inv(i)", "L.det(x)",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_values_dtypes_and_errors_match_torch(expr):
    results = []
    for lib in (mt, torch):
        try:
            out = eval(expr, dict(_inputs(lib), lib=lib))  # noqa: S307 - test expressions only
            results.append((str(out.dtype).split(".")[-1], tuple(out.shape), out.numpy()))
        except Exception as e:  # noqa: BLE001 - an error is a result here
            results.append(("error", type(e).__name__, None))
    (od, os_, ov), (td, ts, tv) = results
    assert (od, os_) == (td, ts)
    if ov is not None:
        np.testing.assert_allclose(ov, tv, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("expr", ["L.inv(a).sum()", "(L.inv(a) ** 2).sum()", "L.det(a) ** 2",
                                  "L.det(bb).sum()", "L.solve(a, v).pow(2).sum()",
                                  "(L.solve(bb, a) ** 2).sum()", "L.vector_norm(a, 3)",
                                  "L.matrix_norm(bb).sum()"])
def test_gradients_match_torch_to_the_second_order(expr):
    results = []
    for lib in (torch, mt):
        a, bb, v = (lib.tensor(x, requires_grad=True) for x in (A0, B0, b0))
        out = eval(expr, {"L": lib.linalg, "a": a, "bb": bb, "v": v})  # noqa: S307
        wrt = [a, bb, v]
        first = lib.autograd.grad(out, wrt, create_graph=True, allow_unused=True)
        used = [g for g in first if g is not None]
        second = lib.autograd.grad(sum((g * g).sum() for g in used), wrt, allow_unused=True)
        results.append([out.detach().numpy()] + [None if g is None else g.detach().numpy()
                                                 for g in (*first, *second)])
    for theirs, ours in zip(*results):
        assert (theirs is None) == (ours is None)
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)
