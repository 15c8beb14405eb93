"""``Tensor.unfold(dimension, size, step)`` live against torch 2.13: the windows' values and shape,
the view (storage, version counter, in-place through it), gradients of overlapping and disjoint
windows to second order, 0-d inputs and torch's errors. (Gradcheck: the op table's unfold rows.)"""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

CASES = [((2, 7), 1, 3, 2), ((2, 7), -1, 2, 3), ((5, 3), 0, 3, 1), ((4, 3, 2), 1, 2, 1),
         ((4, 3, 2), -3, 2, 2), ((6,), 0, 6, 1), ((6,), 0, 0, 1), ((3, 0), 1, 0, 2),
         ((0, 3), 1, 2, 1), ((), 0, 1, 1), ((), -1, 1, 3), ((), 0, 0, 1)]


def _input(shape):
    return np.sin(np.arange(int(np.prod(shape))) * 1.7).reshape(shape)


@pytest.mark.parametrize("shape,dim,size,step", CASES)
def test_values_shape_and_dtype_match_torch(shape, dim, size, step):
    a = _input(shape).astype(np.float32)
    ours = mt.tensor(a).unfold(dim, size, step)
    theirs = torch.tensor(a).unfold(dim, size, step)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == mt.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ints = mt.arange(6).unfold(0, 3, 2)
    assert ints.dtype == mt.int64 and ints.tolist() == [[0, 1, 2], [2, 3, 4]]


@pytest.mark.parametrize("shape,dim,size,step", CASES)
def test_first_and_second_derivatives_match_torch(shape, dim, size, step):
    results = []
    for lib in (torch, mt):
        x = lib.tensor(_input(shape), dtype=lib.float64, requires_grad=True)
        u = x.unfold(dim, size, step)
        w = lib.tensor(np.cos(np.arange(u.numel())).reshape(tuple(u.shape)), dtype=lib.float64)
        g, = lib.autograd.grad((u * u * w).sum(), x, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), x)
        results.append((u.grad_fn.name(), g.detach().numpy(), gg.numpy()))
    assert results[1][0] == results[0][0] == "UnfoldBackward0"
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-12)


def test_overlapping_windows_add_their_gradients():
    x = mt.zeros(5, requires_grad=True)
    x.unfold(0, 3, 1).sum().backward()
    assert x.grad.tolist() == [1., 2., 3., 2., 1.]
    # a step past the window skips elements: they get no gradient
    y = mt.zeros(7, requires_grad=True)
    y.unfold(0, 2, 3).sum().backward()
    assert y.grad.tolist() == [1., 1., 0., 1., 1., 0., 0.]


def test_the_gradient_of_the_gradient_is_the_windowing_again():
    for lib in (torch, mt):
        x = lib.arange(6., requires_grad=True)
        v = lib.ones(3, 2, requires_grad=True)
        g, = lib.autograd.grad(x.unfold(0, 2, 2), x, v, create_graph=True)
        assert g.grad_fn.name() == "UnfoldBackwardBackward0"
        h, = lib.autograd.grad(g, v, lib.arange(6.))
        assert h.tolist() == [[0., 1.], [2., 3.], [4., 5.]]


def test_is_a_view_sharing_storage_and_version_with_its_base():
    x = mt.zeros(2, 6)
    w = x.unfold(1, 2, 2)
    assert w._base is x
    w[:, 1].fill_(3.)
    assert x.tolist() == [[0., 0., 3., 3., 0., 0.]] * 2
    assert x._version == w._version == 1
    x[0, 0] = 5.
    assert w[0, 0, 0].item() == 5.
    # a view of a transposed tensor walks its strides, not its memory order
    t = mt.arange(10.).reshape(2, 5).t()
    assert t.unfold(0, 2, 1).tolist() == torch.arange(10.).reshape(2, 5).t().unfold(0, 2, 1).tolist()


def test_inplace_through_the_view_reaches_the_base_and_its_gradient():
    out = []
    for lib in (torch, mt):
        b = lib.tensor(np.arange(12.).reshape(2, 6), requires_grad=True)
        c = b * 1
        c.unfold(1, 2, 2).mul_(lib.tensor([[1., 2.]]))
        (c * lib.tensor(np.arange(12.).reshape(2, 6))).sum().backward()
        out.append((c.grad_fn.name(), c.tolist(), b.grad.tolist()))
    assert out[1][0] == "CopySlices"
    assert out[1][1:] == out[0][1:]


def test_inplace_on_a_leaf_through_the_view_is_refused():
    x = mt.zeros(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.unfold(0, 2, 2).add_(1)


ERRORS = [
    ("size_past_end", lambda L: L.zeros(2, 5).unfold(1, 6, 1)),
    ("size_past_end_first", lambda L: L.zeros(2, 5).unfold(0, 3, 0)),
    ("size_negative", lambda L: L.zeros(2, 5).unfold(1, -1, 1)),
    ("step_zero", lambda L: L.zeros(2, 5).unfold(1, 2, 0)),
    ("step_negative", lambda L: L.zeros(2, 5).unfold(1, 2, -1)),
    ("dim_out_of_range", lambda L: L.zeros(2, 5).unfold(2, 1, 1)),
    ("dim_out_of_range_0d", lambda L: L.tensor(1.).unfold(1, 1, 1)),
    ("size_past_0d", lambda L: L.tensor(1.).unfold(0, 2, 1)),
    ("float_dim", lambda L: L.zeros(3).unfold(0.5, 1, 1)),
]


@pytest.mark.parametrize("make", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_are_torchs(make):
    caught = []
    for lib in (torch, mt):
        with pytest.raises(Exception) as info:
            make(lib)
        caught.append((type(info.value), str(info.value).split(":")[-1].strip()))
    assert caught[1][0] is caught[0][0], caught
    assert caught[1][1] == caught[0][1], caught


def test_is_a_method_only_as_in_torch():
    assert not hasattr(torch, "unfold") and not hasattr(mt, "unfold")
