"""The backward engine: accumulation, graph freeing, errors, hooks, autograd.grad, threads."""
import threading

import numpy as np
import pytest

import minitorch as mt


def test_gradients_accumulate_across_backward_calls():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3 + 2, 3 + 4]


def test_shared_subexpression_gets_summed_gradient():
    x = mt.tensor([2.0], requires_grad=True)
    y = x * x
    z = y + y * x  # y used twice, x used three times
    z.backward(mt.tensor([1.0]))
    # z = x^2 + x^3 -> dz/dx = 2x + 3x^2 = 4 + 12
    assert x.grad.item() == pytest.approx(16.0)


def test_ten_thousand_op_chain_does_not_recurse():
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward(mt.ones(1))
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_second_backward_through_freed_graph_is_an_error():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_non_scalar_backward_without_gradient_is_an_error():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()


def test_backward_on_tensor_without_grad_says_so():
    x = mt.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


def test_gradient_shape_mismatch_names_both_shapes():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(mt.ones(3))


def test_inplace_change_of_saved_tensor_is_detected_with_op_and_versions():
    a = mt.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = b * b  # saves b
    with mt.no_grad():
        b.mul_(3)
    with pytest.raises(RuntimeError, match=r"saved by MulBackward0, is at version 1; expected version 0"):
        c.sum().backward()


def test_inplace_on_leaf_requiring_grad_is_an_error_outside_no_grad():
    w = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_.*leaf Variable that requires grad"):
        w.add_(1.0)
    with mt.no_grad():
        w.add_(1.0)
    assert w.item() == 2.0 and w._version == 1


def test_inplace_on_nonleaf_rebases_history():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    y.add_(x)  # y = 2x
    y.mul_(3.0)  # y = 6x
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    assert y.grad_fn.name() == "MulBackward0"


def test_view_shares_version_counter_with_base():
    a = mt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = a * 1
    v = b.reshape(4)
    c = b * b
    with mt.no_grad():
        v.fill_(0.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_hooks_see_and_can_replace_gradients():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 2
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing into y's producer
    y.sum().backward()
    assert seen == [[20.0, 20.0]] and x.grad.tolist() == [20.0, 20.0]


def test_retain_grad_keeps_nonleaf_gradient():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0, 12.0] and x.grad.tolist() == [18.0, 36.0]


def test_autograd_grad_returns_without_accumulating():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    w = mt.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    (gx,) = mt.autograd.grad(y, x)
    assert gx.tolist() == [3.0, 4.0] and x.grad is None and w.grad is None


def test_autograd_grad_of_intermediate_tensor():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    (gh,) = mt.autograd.grad(y, h, retain_graph=True)
    assert gh.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        mt.autograd.grad(y, mt.tensor([1.0], requires_grad=True))


def test_detach_stops_gradient_and_requires_grad_():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d.requires_grad_()
    (d * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0] and d.grad.tolist() == [1.0, 2.0]


def test_next_functions_end_in_accumulate_grad_and_none_for_constants():
    a = mt.tensor([1.0], requires_grad=True)
    c = mt.tensor([2.0])
    y = a * c
    (n0, _), (n1, _) = y.grad_fn.next_functions
    assert n0.name() == "AccumulateGrad" and n0.variable is a and n1 is None


def test_broadcast_gradients_sum_back_to_input_shape():
    a = mt.ones(3, 1, requires_grad=True)
    b = mt.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[4.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [3.0] * 4


def test_concurrent_backward_in_threads_loses_no_accumulation():
    w = mt.tensor(np.ones(64), requires_grad=True)
    n_threads, reps = 8, 25
    barrier = threading.Barrier(n_threads)
    errors = []

    def work():
        try:
            barrier.wait()
            for _ in range(reps):
                (w * 2.0).sum().backward()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert np.all(w.grad.numpy() == 2.0 * n_threads * reps)


def test_independent_graphs_in_threads_give_their_own_gradients():
    results = {}

    def work(k):
        x = mt.tensor([float(k)], requires_grad=True)
        y = x
        for _ in range(200):
            y = y * 1.0
        (y * y).sum().backward()
        results[k] = x.grad.item()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: 2.0 * k for k in range(6)}


def test_grad_takes_torchs_only_inputs_and_materialize_grads():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    unused = mt.tensor([3.0], requires_grad=True)
    gx, gu = mt.autograd.grad((x * x).sum(), [x, unused], materialize_grads=True,
                              only_inputs=True)
    assert gx.tolist() == [2.0, 4.0] and gu.tolist() == [0.0]
    with pytest.raises(ValueError, match="Expected allow_unused to be True"):
        mt.autograd.grad((x * x).sum(), [x], materialize_grads=True, allow_unused=False)
    with pytest.warns(UserWarning, match="only_inputs argument is deprecated"):
        mt.autograd.grad((x * x).sum(), [x], only_inputs=False)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        mt.autograd.grad((x * x).sum(), [x, unused])
