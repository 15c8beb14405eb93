"""In-place ops write into storage, share one version counter with views, and rebase history as
PyTorch does (torch 2.13 is the oracle: each case runs in both)."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

A = np.array([[0.5, -1.0, 2.0], [1.5, -0.25, 3.0]], dtype=np.float32)
W = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.0


def _both(program):
    """Run ``program(lib, a)`` with lib = minitorch and torch; a is a leaf requiring grad. The
    program returns a scalar loss and a tensor to compare; values and a.grad must agree."""
    results = []
    for lib in (mt, torch):
        a = lib.tensor(A.copy(), requires_grad=True)
        loss, seen = program(lib, a)
        loss.backward()
        results.append((seen.detach().numpy().copy(), a.grad.detach().numpy().copy()))
    (mv, mg), (tv, tg) = results
    np.testing.assert_allclose(mv, tv, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mg, tg, rtol=1e-6, atol=1e-6)


def test_inplace_on_base_is_seen_by_an_integer_index_view():
    def program(lib, a):
        b = a * 1
        v = b[0]
        b.add_(10)
        return (v * lib.tensor(W[0])).sum(), v
    _both(program)


def test_inplace_on_a_view_reaches_the_base_and_gradients_match_torch():
    def program(lib, a):
        b = a * 2
        v = b[:, 1]
        v.mul_(5)
        return (b * lib.tensor(W)).sum(), b
    _both(program)


def test_view_regenerates_its_grad_fn_after_the_base_changed():
    def program(lib, a):
        b = a * 1
        v = b.t()
        b.mul_(a)  # a's gradient needs b's old value: saved privately, as torch does
        return (v * lib.tensor(W.T)).sum(), v
    _both(program)


def test_sibling_view_sees_inplace_through_another_view():
    def program(lib, a):
        b = a.exp()
        b = b * 1
        r0, c1 = b[0], b[:, 1]
        r0.sub_(3)
        return (c1 * c1).sum(), c1
    _both(program)


def test_view_of_a_view_chain_and_reshape_views():
    def program(lib, a):
        b = a + 0
        v = b.reshape(3, 2)[1:].unsqueeze(0)
        v.mul_(lib.tensor(W[0, :2]))
        return (b * b).sum(), b
    _both(program)


def test_fill_and_zero_cut_the_old_history():
    for op in ("fill_", "zero_"):
        def program(lib, a, op=op):
            b = a * 3
            getattr(b, op)(*([2.0] if op == "fill_" else []))
            return (b * lib.tensor(W) + a).sum(), b
        _both(program)


def test_fill_of_a_row_with_a_tensor_that_requires_grad():
    def program(lib, a):
        b = a * 1
        b[1].fill_(a[0, 2])
        return (b * lib.tensor(W)).sum(), b
    _both(program)


def test_copy_and_relu_and_clamp_and_pow_in_place():
    def program(lib, a):
        b = a * 1
        b.relu_()
        c = a * 1
        c.clamp_(min=-0.5, max=2.0)
        d = a * 1
        d.pow_(2)
        e = lib.zeros(2, 3)
        e.copy_(a[0])
        return (b * 2 + c * 3 + d + e * lib.tensor(W)).sum(), b + c + d + e
    _both(program)


def test_setitem_records_into_the_graph():
    def program(lib, a):
        v = lib.tensor(np.array([7.0, 8.0, 9.0], np.float32), requires_grad=True)
        b = a * 1
        b[0] = v * a[1]
        b[1, 1:] = 0.5
        return (b * lib.tensor(W)).sum(), b
    _both(program)


def test_setitem_with_an_advanced_index_and_a_mask():
    def program(lib, a):
        b = a * 2
        b[[0, 1], [1, 2]] = a[0, 0]
        b[b > 3] = 0.0
        return (b * lib.tensor(W)).sum(), b
    _both(program)


def test_inplace_on_a_view_of_a_tensor_without_grad_with_an_operand_that_needs_it():
    def program(lib, a):
        z = lib.zeros(2, 3)
        z[:, 0].add_(a[:, 2])
        return (z * lib.tensor(W)).sum(), z
    _both(program)


def test_integer_indexing_returns_a_view_that_writes_through():
    x = mt.zeros(2, 3)
    x[0, 1].fill_(5.0)
    x[1][2] += 1
    np.testing.assert_array_equal(x.numpy(), [[0, 5, 0], [0, 0, 1]])


def test_aliases_see_augmented_assignment():
    x = mt.zeros(3)
    y = x
    x += 1
    x *= 3
    x -= 1
    x /= 2
    x **= 2
    assert x is y
    np.testing.assert_array_equal(y.numpy(), [1.0, 1.0, 1.0])
    i = mt.tensor([7, 8, 9])
    j = i
    i //= 2
    i %= 3
    np.testing.assert_array_equal(j.numpy(), [0, 1, 1])


def test_remainder_in_place_gradient_matches_torch():
    def program(lib, a):
        b = a * 1
        b %= 0.75
        return (b * lib.tensor(W)).sum(), b
    _both(program)


def test_matmul_assignment_rebinds_as_in_torch():
    x = mt.ones(2, 2)
    y = x
    x @= mt.eye(2) * 2 if hasattr(mt, "eye") else mt.tensor([[2.0, 0.0], [0.0, 2.0]])
    assert x is not y and y.numpy().tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_version_counter_is_shared_by_base_and_views():
    x = mt.zeros(2, 3)
    v, w = x[0], x.reshape(6)
    x.add_(1)
    assert x._version == v._version == w._version == 1
    v.mul_(2)
    assert x._version == 2 and w.numpy()[:3].tolist() == [2.0, 2.0, 2.0]
    assert x.t().reshape(6)._version == 0  # a reshape that must copy is not a view


def test_modified_saved_tensor_raises_torchs_error():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward0.*"
                                           "version 1; expected version 0"):
        b.sum().backward()


def test_modification_through_detach_is_tracked_and_through_data_is_not():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.detach().add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    tb = t.exp()
    tb.data.add_(1)
    tb.sum().backward()
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = a.exp()
    b.data.add_(1)
    b.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_data_is_a_detached_alias():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    d = p.data
    assert isinstance(d, mt.Tensor) and not d.requires_grad and d.is_leaf
    d.mul_(3)
    assert p.detach().numpy().tolist() == [3.0, 6.0] and p._version == 0
    p.data = mt.tensor([1.0, 2.0, 3.0], dtype=mt.float64)
    assert p.shape == (3,) and p.dtype == mt.float64 and p.requires_grad


@pytest.mark.parametrize("case, message", [
    (lambda: mt.tensor([1.0], requires_grad=True).add_(1), "add_: a leaf Variable"),
    (lambda: mt.zeros(2, 3, requires_grad=True)[0].mul_(2), "mul_: a view of a leaf Variable"),
    (lambda: mt.zeros(2, requires_grad=True).__setitem__(0, 1.0), "a view of a leaf Variable"),
    (lambda: mt.arange(3).add_(1.5), "result type Float can't be cast to the desired output "
                                     "type Long"),
    (lambda: mt.arange(3).div_(2), "result type Float can't be cast"),
    (lambda: mt.zeros(3, dtype=mt.bool).add_(1), "result type Long can't be cast to the "
                                                 "desired output type Bool"),
    (lambda: mt.zeros(3).add_(mt.ones(2, 3)), r"output with shape \[3\] doesn't match the "
                                              r"broadcast shape \[2, 3\]"),
    (lambda: mt.zeros(3).copy_(mt.ones(2, 3)), r"copy_: output with shape \[3\]"),
    (lambda: mt.zeros(3).expand(2, 3).add_(1), "more than one element of the written-to"),
    (lambda: mt.zeros(2, 3).t().view(6), "view size is not compatible.*Use .reshape"),
])
def test_refusals_match_torch(case, message):
    with pytest.raises(RuntimeError, match=message):
        case()


def test_view_taken_in_no_grad_cannot_be_modified_in_grad_mode():
    x = mt.zeros(2, 3, requires_grad=True)
    y = x * 1
    with mt.no_grad():
        v = y[0]
    with pytest.raises(RuntimeError, match="view was created in no_grad mode"):
        v.add_(mt.ones(3, requires_grad=True))


def test_legal_writes_torch_allows():
    x = mt.zeros(3)
    x.unsqueeze(0).expand(2, 3)[0].add_(1)  # one row of the broadcast repeats nothing
    assert x.numpy().tolist() == [1.0, 1.0, 1.0]
    i = mt.zeros(3, dtype=mt.int64)
    i.fill_(1.5)
    i.copy_(mt.ones(3) * 2.5)
    i[0] = 7.9
    assert i.numpy().tolist() == [7, 2, 2]
    f = mt.zeros(3)
    f.add_(mt.ones(3, dtype=mt.float64))  # float64 -> float32 is a same-kind cast
    assert f.dtype == mt.float32 and f.numpy().tolist() == [1.0, 1.0, 1.0]


def test_floor_divide_in_place_in_grad_mode_is_refused_as_in_torch():
    b = mt.tensor([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="derivative for floor_divide_ is not implemented"):
        b //= 2


def test_no_grad_update_writes_the_parameter_in_place():
    p = mt.tensor([1.0, 2.0], requires_grad=True)
    storage = p.detach().numpy()
    (p * p).sum().backward()
    with mt.no_grad():
        p -= 0.1 * p.grad
    assert p.is_leaf and p.requires_grad and p.detach().numpy() is storage
    np.testing.assert_allclose(storage, [0.8, 1.6], rtol=1e-6)
    p.grad.zero_()
    p.grad.data.zero_()
    assert p.grad.numpy().tolist() == [0.0, 0.0]


def test_view_taken_in_no_grad_requires_grad_but_collects_nothing_as_in_torch():
    got = []
    for lib in (mt, torch):
        x = lib.tensor(A.copy(), requires_grad=True)
        with lib.no_grad():
            v = x.t()
        (v * 2).sum().backward()
        got.append((v.requires_grad, v.is_leaf, v.grad is None, x.grad is None))
    assert got[0] == got[1]


def test_fill_of_an_expanded_tensor_is_legal_as_in_torch():
    x = mt.ones(3)
    x.expand(2, 3).zero_()
    assert x.numpy().tolist() == [0.0, 0.0, 0.0]
