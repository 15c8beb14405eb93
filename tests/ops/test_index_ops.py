"""Shape and indexing ops beyond the op table: views and in-place through them, return types,
index dtypes, ties and NaN in sorting, errors (as torch's), register_hook handles."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


def _pair(values, requires_grad=False, dtype=None):
    a = np.asarray(values, dtype=dtype or np.float32)
    return (mt.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


# ------------------------------------------------------------------ views
def test_split_pieces_are_views_that_write_into_the_base():
    x = mt.arange(12.).reshape(4, 3)
    top, bottom = x.split(2)
    bottom.add_(100)
    assert x[2:].tolist() == (np.arange(6, 12).reshape(2, 3) + 100).tolist()
    assert top._version == x._version == 1
    # and a write into the base shows in the piece
    x[0, 0] = -1.
    assert top[0, 0].item() == -1.


@pytest.mark.parametrize("make", [lambda b: b.split(2)[1], lambda b: b.chunk(2)[0],
                                  lambda b: b.split([1, 3])[1], lambda b: b.unbind(0)[2],
                                  lambda b: b.split(2)[0][0]],
                         ids=["split", "chunk", "split_sizes", "unbind", "view_of_piece"])
def test_recorded_inplace_on_a_multi_output_view_is_refused_as_torch(make):
    for lib in (mt, torch):
        b = lib.ones(4, 3, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="returns multiple views"):
            make(b).zero_()


def test_tensor_split_pieces_are_plain_views_writable_in_grad_mode():
    grads = []
    for lib in (mt, torch):
        a = lib.ones(4, 3, requires_grad=True)
        b = a * 1
        b.tensor_split(2)[1].mul_(3)
        (b * lib.arange(12.).reshape(4, 3)).sum().backward()
        grads.append(a.grad.tolist())
    assert grads[0] == grads[1]


def test_inplace_on_a_piece_without_grad_recording_is_allowed():
    x = mt.ones(4, 3, requires_grad=True) * 1
    with mt.no_grad():
        x.split(2)[1].zero_()
    assert x.sum().item() == 6.


def test_narrow_is_a_view_and_carries_the_gradient_to_the_base():
    pairs = [_pair(np.arange(12.).reshape(3, 4), requires_grad=True)]
    outs = []
    for a in pairs[0]:
        b = a * 1
        v = b.narrow(1, 1, 2)
        v.mul_(5)
        (b * b).sum().backward()
        outs.append((b.detach().numpy().copy(), a.grad.numpy().copy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0])
    np.testing.assert_allclose(outs[0][1], outs[1][1])


def test_movedim_and_diagonal_share_storage_and_version():
    x = mt.zeros(2, 3, 3)
    d = x.diagonal(0, 1, 2)
    m = x.movedim(0, -1)
    d.fill_(7.)
    assert x._version == d._version == m._version == 1
    assert x[1].tolist() == np.diag([7., 7., 7.]).tolist()
    assert m[:, :, 0].tolist() == x[0].tolist()


def test_diagonal_offset_and_empty_match_torch():
    for off in (-3, -1, 0, 2, 5):
        ours, theirs = _pair(np.arange(12.).reshape(3, 4))
        assert ours.diagonal(off).tolist() == theirs.diagonal(off).tolist()


# ------------------------------------------------------------------ return types
def test_topk_and_sort_return_named_tuples():
    x = mt.tensor([[3., 1., 2.], [0., 5., 1.]])
    r = x.topk(2)
    assert type(r).__name__ == "topk" and isinstance(r, tuple)
    values, indices = r
    assert values is r.values and indices is r.indices
    assert indices.dtype == mt.int64 and not indices.requires_grad
    s = mt.sort(x, dim=0, descending=True)
    assert type(s).__name__ == "sort" and s[0].tolist() == [[3., 5., 2.], [0., 1., 1.]]
    assert "values=" in repr(s) and "indices=" in repr(s)


def test_sort_ties_and_nan_are_ordered_as_torch():
    values = [3., 1., float("nan"), 3., 1., 2., float("nan"), 2.]
    ours, theirs = _pair(values)
    for descending in (False, True):
        a, b = ours.sort(descending=descending), theirs.sort(descending=descending)
        assert a.indices.tolist() == b.indices.tolist()
        np.testing.assert_array_equal(a.values.numpy(), b.values.numpy())
        assert ours.argsort(descending=descending).tolist() == \
            theirs.argsort(descending=descending).tolist()


def test_sort_and_topk_of_ints_and_zero_dim():
    ours, theirs = _pair([5, -1, 3, 3], dtype=np.int64)
    assert ours.sort().values.dtype == mt.int64
    assert ours.sort().indices.tolist() == theirs.sort().indices.tolist()
    assert ours.topk(2).values.tolist() == theirs.topk(2).values.tolist()
    s, t = mt.tensor(2.).sort(), torch.tensor(2.).sort()
    assert s.values.shape == t.values.shape == () and s.indices.item() == t.indices.item() == 0


def test_topk_gradient_goes_to_the_selected_elements():
    ours, theirs = _pair([[0.5, 2., -1., 3.]], requires_grad=True)
    for t in (ours, theirs):
        (t.topk(2, largest=False).values * 10).sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist() == [[10., 0., 10., 0.]]


# ------------------------------------------------------------------ index dtypes and errors
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_index_tensors_of_both_int_dtypes_are_accepted(dtype):
    x = mt.arange(12.).reshape(3, 4)
    idx = mt.tensor(np.array([[0, 3], [1, 1], [2, 0]], dtype=dtype))
    assert x.gather(1, idx).tolist() == [[0., 3.], [5., 5.], [10., 8.]]
    assert x.index_select(1, mt.tensor(np.array([3, 0], dtype=dtype))).tolist() == \
        [[3., 0.], [7., 4.], [11., 8.]]


def test_negative_positions_in_gather_and_scatter_raise_as_torch():
    for lib in (mt, torch):
        x = lib.zeros(2, 3)
        with pytest.raises(RuntimeError, match="out of bounds"):
            x.gather(1, lib.tensor([[3], [0]]))


def test_scatter_add_accumulates_repeated_positions_and_their_grads():
    ours, theirs = _pair(np.zeros((2, 3)), requires_grad=True)
    srcs = _pair(np.arange(4.).reshape(2, 2), requires_grad=True)
    results = []
    for lib, x, src in ((mt, ours, srcs[0]), (torch, theirs, srcs[1])):
        out = x.scatter_add(1, lib.tensor([[1, 1], [0, 2]]), src)
        (out * lib.arange(6.).reshape(2, 3)).sum().backward()
        results.append((out.tolist(), x.grad.tolist(), src.grad.tolist()))
    assert results[0] == results[1]


def test_inplace_forms_write_into_storage_and_bump_the_version():
    x = mt.zeros(2, 3)
    alias = x.view(6)
    x.masked_fill_(mt.tensor([[True, False, True], [False, False, False]]), 4.)
    x.scatter_(1, mt.tensor([[1], [2]]), 9.)
    x.scatter_add_(0, mt.tensor([[1, 0, 0]]), mt.ones(1, 3))
    x.tril_()
    assert x._version == 4
    ref = torch.zeros(2, 3)
    ref.masked_fill_(torch.tensor([[True, False, True], [False, False, False]]), 4.)
    ref.scatter_(1, torch.tensor([[1], [2]]), 9.)
    ref.scatter_add_(0, torch.tensor([[1, 0, 0]]), torch.ones(1, 3))
    ref.tril_()
    assert alias.tolist() == ref.reshape(6).tolist()


def test_masked_fill_value_tensor_gets_the_gradient():
    x, tx = _pair([[1., -2.], [-3., 4.]], requires_grad=True)
    v, tv = _pair(0.5, requires_grad=True)
    for a, val in ((x, v), (tx, tv)):
        (a.masked_fill(a < 0, val) * 3).sum().backward()
    assert v.grad.item() == tv.grad.item() == 6.
    assert x.grad.tolist() == tx.grad.tolist()


def test_nonzero_shapes_and_as_tuple_match_torch():
    for values in ([[0., 1.], [2., 0.]], [0., 0.], 3., 0.):
        ours, theirs = _pair(values)
        assert ours.nonzero().tolist() == theirs.nonzero().tolist()
        assert ours.nonzero().shape == theirs.nonzero().shape
        assert ours.nonzero().dtype == mt.int64
        assert [t.tolist() for t in ours.nonzero(as_tuple=True)] == \
            [t.tolist() for t in theirs.nonzero(as_tuple=True)]


ERRORS = [
    ("gather_rank", lambda L, x: x.gather(1, L.zeros(3, dtype=L.int64))),
    ("gather_size", lambda L, x: x.gather(1, L.zeros(4, 2, dtype=L.int64))),
    ("gather_float_index", lambda L, x: x.gather(1, L.zeros(3, 2))),
    ("index_select_2d", lambda L, x: x.index_select(0, L.zeros(2, 2, dtype=L.int64))),
    ("index_select_range", lambda L, x: x.index_select(0, L.tensor([5]))),
    ("masked_fill_float_mask", lambda L, x: x.masked_fill(L.zeros(3, 4), 1.)),
    ("masked_fill_1d_value", lambda L, x: x.masked_fill(x > 0, L.tensor([1.]))),
    ("masked_select_float", lambda L, x: x.masked_select(x)),
    ("topk_k", lambda L, x: x.topk(5)),
    ("split_zero", lambda L, x: x.split(0)),
    ("split_sizes_sum", lambda L, x: x.split([1, 1])),
    ("chunk_zero", lambda L, x: x.chunk(0)),
    ("narrow_past_end", lambda L, x: x.narrow(0, 2, 2)),
    ("repeat_few_dims", lambda L, x: x.repeat(2)),
    ("movedim_repeated", lambda L, x: x.movedim((0, 1), (0, 0))),
    ("tril_1d", lambda L, x: x[0].tril()),
    ("diag_3d", lambda L, x: x.reshape(1, 3, 4).diag()),
    ("diagonal_same_dims", lambda L, x: x.diagonal(0, 1, 1)),
    ("roll_misaligned", lambda L, x: x.roll((1, 2), 0)),
    ("flip_repeated", lambda L, x: x.flip(0, 0)),
    ("unbind_0d", lambda L, x: x.sum().unbind()),
    ("tensor_split_zero", lambda L, x: x.tensor_split(0)),
    ("mT_1d", lambda L, x: x[0].mT),
    ("hook_no_grad", lambda L, x: x.register_hook(lambda g: g)),
]


@pytest.mark.parametrize("make", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_are_torchs(make):
    kinds = []
    for lib in (torch, mt):
        with pytest.raises(Exception) as info:
            make(lib, lib.zeros(3, 4))
        kinds.append(type(info.value))
    assert kinds[1] is kinds[0] or issubclass(kinds[1], kinds[0]), kinds


# ------------------------------------------------------------------ hooks
def test_register_hook_returns_a_handle_whose_remove_stops_the_hook():
    a = mt.ones(3, requires_grad=True)
    b = a * 2
    handle = b.register_hook(lambda g: g * 10)
    b.sum().backward(retain_graph=True)
    assert a.grad.tolist() == [20., 20., 20.]
    handle.remove()
    handle.remove()  # a second remove is harmless, as torch's
    a.grad = None
    b.sum().backward()
    assert a.grad.tolist() == [2., 2., 2.]


def test_removing_one_hook_keeps_the_others():
    seen = []
    a = mt.ones(2, requires_grad=True)
    first = a.register_hook(lambda g: seen.append("first"))
    a.register_hook(lambda g: seen.append("second"))
    first.remove()
    a.sum().backward()
    assert seen == ["second"]


def test_every_index_and_linalg_function_has_an_op_table_row():
    from minitorch.ops import index, linalg

    from .op_table import OPS
    from .op_table_index import COVERED

    assert set(index.__all__) - {"along"} | set(linalg.__all__) == set(COVERED), \
        "a new Function in ops/index.py or ops/linalg.py needs a row in tests/ops/op_table_index.py"
    assert set(COVERED.values()) <= {row[0] for row in OPS}


@pytest.mark.parametrize("op,raises", [
    (lambda L, x: x.gather(1, L.tensor([[0], [1]])), True),
    (lambda L, x: x.masked_select(x > 0), True),
    (lambda L, x: x.topk(1).values, False),
    (lambda L, x: x.sort(0).values, False),
    (lambda L, x: x.index_select(0, L.tensor([1])), False),
], ids=["gather", "masked_select", "topk", "sort", "index_select"])
def test_saved_input_version_check_is_torchs(op, raises):
    """An op that saves its input (as torch's does) notices an in-place change before backward;
    one that saves only indices does not."""
    outcomes = []
    for lib in (torch, mt):
        leaf = lib.tensor([[1., -2.], [3., 4.]], requires_grad=True)
        x = leaf * 1
        out = op(lib, x)
        with lib.no_grad():
            x.add_(1)
        try:
            out.sum().backward()
            outcomes.append(False)
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            outcomes.append(True)
    assert outcomes == [raises, raises]


def test_masked_fill_and_tril_write_into_an_expanded_tensor_as_torch():
    """They write only the selected elements, so torch allows them on an expanded tensor
    (masked_fill_ with a deprecation warning), unlike the other in-place ops."""
    results = []
    for lib in (torch, mt):
        x = lib.tensor([1., 2., 3.]).expand(2, 3)
        with pytest.warns(UserWarning, match="expanded tensors is deprecated"):
            x.masked_fill_(lib.tensor([[False, True, False], [False, False, False]]), 9.)
        y = lib.tensor([[1., 2., 3.]]).expand(3, 3)
        y.triu_(1)
        results.append((x.tolist(), y.tolist()))
        with pytest.raises(RuntimeError):
            lib.tensor([1., 2., 3.]).expand(2, 3).scatter_(1, lib.tensor([[0]]), 1.)
    assert results[0] == results[1]


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_and_repeat_interleave_with_tensor_repeats_match_torch():
    results = []
    for lib in (torch, mt):
        x = lib.arange(1., 7.).reshape(2, 3)
        idx = lib.tensor([[0, 0], [2, 1]])
        src = lib.tensor([[2., 3.], [4., 5.]])
        results.append((x.scatter(1, idx, src, reduce="add").tolist(),
                        x.scatter(1, idx, src, reduce="multiply").tolist(),
                        x.repeat_interleave(lib.tensor([2, 0]), dim=0).tolist(),
                        x.repeat_interleave(2).tolist()))
    assert results[0] == results[1]
