"""mm, bmm, dot, vdot, inner, mv, outer, addmm and einsum against torch: values, gradients, dtypes,
errors."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("...ij->...ji", [(2, 2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b->...", [(3, 2, 2), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i j , j k -> i k", [(2, 3), (3, 4)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ik,jk", [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_values_and_gradients_match_torch(eq, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = mt.einsum(eq, *ours), torch.einsum(eq, *theirs)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(mt.tensor(g))
    ref.backward(torch.tensor(g))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_einsum_float64_gradcheck_with_a_trace_and_a_summed_letter():
    rng = np.random.default_rng(1)
    a = mt.tensor(rng.standard_normal((3, 3, 2)), requires_grad=True)
    b = mt.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    assert mt.autograd.gradcheck(lambda x, y: mt.einsum("iij,jk->k", x, y), [a, b])
    assert mt.autograd.gradcheck(lambda x, y: mt.einsum("ikj,jl->i", x, y), [a, b])


def test_einsum_accepts_a_list_of_operands():
    a, b = mt.ones(2, 3), mt.ones(3)
    assert mt.einsum("ij,j->i", [a, b]).tolist() == [3., 3.]


EINSUM_ERRORS = [
    ("ij,jk->ik", [(3, 4), (3, 4)]),  # sizes disagree
    ("ij,jk->ik", [(3, 4)]),  # too few operands
    ("ij->k", [(3, 4)]),  # output letter in no input
    ("ijk", [(3, 4)]),  # too many letters
    ("ij->ii", [(3, 4)]),  # repeated output letter
    ("i1->i", [(3, 4)]),  # not a letter
]


@pytest.mark.parametrize("eq,shapes", EINSUM_ERRORS, ids=[str(i) for i in range(6)])
def test_einsum_errors_are_torchs(eq, shapes):
    for lib in (torch, mt):
        with pytest.raises(RuntimeError):
            lib.einsum(eq, *[lib.zeros(s) for s in shapes])


def test_products_match_torch_with_gradients():
    rng = np.random.default_rng(2)
    m1, m2, v = (rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4, 2), (4,)])
    b1, b2 = rng.standard_normal((2, 3, 4)).astype(np.float32), \
        rng.standard_normal((2, 4, 5)).astype(np.float32)
    programs = [
        lambda L, t: t[0].mm(t[1]), lambda L, t: L.mm(t[0], t[1]),
        lambda L, t: L.bmm(t[3], t[4]), lambda L, t: t[3].bmm(t[4]),
        lambda L, t: t[2].dot(t[2]), lambda L, t: L.mv(t[0], t[2]),
        lambda L, t: t[0].mv(t[2]), lambda L, t: L.outer(t[2], t[0][0]),
        lambda L, t: t[2].outer(t[2]),
        lambda L, t: L.addmm(t[2][:3], t[1].t(), t[0].t(), beta=2., alpha=-0.5),
        lambda L, t: L.addmm(t[0][0][0], t[0], t[1]),
    ]
    for prog in programs:
        results = []
        for lib in (mt, torch):
            ts = [lib.tensor(a, requires_grad=True) for a in (m1, m2, v, b1, b2)]
            out = prog(lib, ts)
            out.sum().backward()
            results.append([out.detach().numpy()] + [
                t.grad.numpy() if t.grad is not None else None for t in ts])
        for ours, theirs in zip(*results):
            assert (ours is None) == (theirs is None)
            if ours is not None:
                np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_integer_products_stay_integer_as_torch():
    for lib in (mt, torch):
        a = lib.tensor([[1, 2], [3, 4]])
        assert str(a.mm(a).dtype).endswith("int64")
        assert a.mm(a).tolist() == [[7, 10], [15, 22]]
        assert str(lib.outer(a[0], lib.tensor([0.5, 1.])).dtype).endswith("float32")


PRODUCT_ERRORS = [
    ("mm_1d", lambda L: L.zeros(3, 4).mm(L.zeros(4))),
    ("mm_shapes", lambda L: L.zeros(3, 4).mm(L.zeros(3, 4))),
    ("mm_dtypes", lambda L: L.zeros(3, 4).mm(L.zeros(4, 2, dtype=L.float64))),
    ("mm_int_float", lambda L: L.ones(2, 2, dtype=L.int64).mm(L.ones(2, 2))),
    ("bmm_2d", lambda L: L.bmm(L.zeros(3, 4), L.zeros(4, 3))),
    ("bmm_batch", lambda L: L.bmm(L.zeros(2, 3, 4), L.zeros(3, 4, 6))),
    ("bmm_inner", lambda L: L.bmm(L.zeros(2, 3, 4), L.zeros(2, 5, 6))),
    ("dot_2d", lambda L: L.dot(L.zeros(2, 2), L.zeros(2, 2))),
    ("dot_sizes", lambda L: L.dot(L.zeros(3), L.zeros(4))),
    ("dot_dtypes", lambda L: L.dot(L.zeros(3), L.zeros(3, dtype=L.float64))),
    ("mv_sizes", lambda L: L.mv(L.zeros(3, 4), L.zeros(3))),
    ("mv_1d", lambda L: L.mv(L.zeros(3), L.zeros(3))),
    ("mv_dtypes", lambda L: L.mv(L.zeros(2, 3), L.zeros(3, dtype=L.float64))),
    ("outer_2d", lambda L: L.outer(L.zeros(3, 4), L.zeros(3))),
    ("mm_bool", lambda L: L.ones(2, 2, dtype=L.bool).mm(L.ones(2, 2, dtype=L.bool))),
    # bool products name the kernel torch reaches, per function and, for matmul, per rank
    ("bmm_bool", lambda L: L.bmm(*[L.ones(1, 2, 2, dtype=L.bool)] * 2)),
    ("dot_bool", lambda L: L.dot(*[L.ones(2, dtype=L.bool)] * 2)),
    ("mv_bool", lambda L: L.mv(L.ones(2, 2, dtype=L.bool), L.ones(2, dtype=L.bool))),
    ("inner_bool", lambda L: L.inner(*[L.ones(2, 2, dtype=L.bool)] * 2)),
    ("vdot_2d", lambda L: L.vdot(L.zeros(2, 2), L.zeros(2, 2))),
    ("inner_last_dim", lambda L: L.inner(L.zeros(2, 3), L.zeros(4, 2))),
    ("inner_dtypes", lambda L: L.inner(L.zeros(3, dtype=L.int64), L.zeros(3))),
] + [(f"matmul_bool_{ra}d_{rb}d", lambda L, ra=ra, rb=rb: L.matmul(
    L.ones((2,) * ra, dtype=L.bool), L.ones((2,) * rb, dtype=L.bool)))
    for ra, rb in [(1, 1), (2, 1), (1, 2), (2, 2), (3, 3), (3, 1), (1, 3), (3, 2)]]


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (4, 3)], [(2, 3, 4), (2, 4)],
                                    [(), (2, 3)], [(0, 3), (2, 3)]],
                         ids=["1d", "2d", "3d-2d", "0d", "empty"])
def test_inner_and_vdot_match_torch_with_gradients(shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for lib in (torch, mt):
        a, b = (lib.tensor(x, requires_grad=True) for x in arrays)
        out = lib.inner(a, b)
        (out * out).sum().backward()
        got = {"out": out.detach().numpy(), "grad_a": a.grad.numpy(), "grad_b": b.grad.numpy(),
               "dtype": str(out.dtype).split(".")[-1]}
        if len(shapes[0]) == len(shapes[1]) == 1:
            got["vdot"] = lib.vdot(a, b).item()
            got["method"] = a.detach().vdot(b.detach()).item()
        results.append(got)
    theirs, ours = results
    assert theirs.keys() == ours.keys() and theirs["dtype"] == ours["dtype"]
    for key in (k for k in theirs if k != "dtype"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("make", [e[1] for e in PRODUCT_ERRORS],
                         ids=[e[0] for e in PRODUCT_ERRORS])
def test_product_errors_are_torchs(make):
    kinds, messages = [], []
    for lib in (torch, mt):
        with pytest.raises(Exception) as info:
            make(lib)
        kinds.append(type(info.value))
        messages.append(str(info.value))
    assert kinds[0] is kinds[1]
    assert messages[0] == messages[1]
