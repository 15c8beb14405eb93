"""The Tensor API: factories, dtypes and promotion, repr, indexing, in-place ops, errors."""
import numpy as np
import pytest

import minitorch as mt


def test_float_lists_default_to_float32_and_ints_to_int64():
    assert mt.tensor([1.0, 2.0]).dtype == mt.float32
    assert mt.tensor([1, 2]).dtype == mt.int64
    assert mt.tensor([True, False]).dtype == mt.bool
    assert mt.tensor([1.0], dtype=mt.float64).dtype == mt.float64


def test_factories_shapes_and_dtypes():
    assert mt.zeros(2, 3).shape == (2, 3) and mt.zeros((2, 3)).shape == (2, 3)
    assert mt.ones(4).detach().numpy().sum() == 4
    assert mt.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert mt.arange(5).dtype == mt.int64 and mt.arange(0.0, 1.0, 0.5).tolist() == [0.0, 0.5]
    assert mt.empty(3).shape == (3,)
    assert mt.rand(3, 4).dtype == mt.float32
    r = mt.randint(0, 10, (100,))
    assert r.dtype == mt.int64 and 0 <= r.detach().numpy().min() and r.detach().numpy().max() < 10
    assert mt.randint(5, (3,)).detach().numpy().max() < 5


def test_manual_seed_makes_random_factories_reproducible():
    mt.manual_seed(123)
    a = mt.randn(5)
    mt.manual_seed(123)
    b = mt.randn(5)
    assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    state = mt.get_rng_state()
    c = mt.rand(3)
    mt.set_rng_state(state)
    assert np.array_equal(mt.rand(3).detach().numpy(), c.data)


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3, np.float32)
    shared, copied = mt.from_numpy(a), mt.tensor(a)
    a[0] = 5
    assert shared[0].item() == 5 and copied[0].item() == 0


def test_type_promotion_follows_pytorch():
    i = mt.tensor([1, 2])
    f = mt.tensor([1.0, 2.0])
    assert (i * 2.5).dtype == mt.float32  # int tensor with float scalar -> default float
    assert (i / 2).dtype == mt.float32  # true division
    assert (i + f).dtype == mt.float32
    assert (f + mt.tensor([1.0], dtype=mt.float64)).dtype == mt.float64
    assert (f * 2).dtype == mt.float32


def test_repr_looks_like_pytorch():
    assert repr(mt.tensor([True, True])) == "tensor([True, True])"
    assert repr(mt.tensor([2.0, 3.0], requires_grad=True)) == \
        "tensor([2., 3.], requires_grad=True)"
    assert repr(mt.tensor(1.5)) == "tensor(1.5000)"
    assert repr(mt.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mt.tensor([0.5, 1.25], dtype=mt.float64)) == \
        "tensor([0.5000, 1.2500], dtype=minitorch.float64)"
    assert repr(mt.tensor([[1.0, -2.5], [3.0, 4.0]])) == \
        "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])"


def test_indexing_forms_and_their_gradients():
    x = mt.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x[1].shape == (3, 4) and x[:, 1:].shape == (2, 2, 4)
    assert x[None, ..., 0].shape == (1, 2, 3)
    assert x[mt.tensor([1, 1])].shape == (2, 3, 4)
    y = x[0, :, 1].sum() + x[mt.tensor([1, 1]), 0, 0].sum()
    y.backward()
    expected = np.zeros((2, 3, 4))
    expected[0, :, 1] = 1
    expected[1, 0, 0] = 2  # the repeated index adds up
    assert np.array_equal(x.grad.detach().numpy(), expected)


def test_max_and_min_along_a_dim_return_values_and_indices():
    x = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == mt.int64
    assert x.min(0).indices.tolist() == [0, 1, 0]
    assert x.argmax().item() == 3 and x.argmax(1).tolist() == [1, 0]


def test_inplace_ops_bump_version_and_change_values():
    t = mt.zeros(3)
    t.add_(1).mul_(3).sub_(mt.ones(3))
    assert t.tolist() == [2.0, 2.0, 2.0] and t._version == 3
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    t.copy_(mt.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [1.0, 2.0, 3.0]
    t.fill_(4.0)
    assert t.tolist() == [4.0] * 3


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)|\(4,\).*\(2, 3\)"):
        mt.ones(2, 3) + mt.ones(4)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        mt.ones(2, 3) @ mt.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        mt.ones(2, 3).reshape(5)
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(3, 3\)"):
        mt.cat([mt.ones(2, 2), mt.ones(3, 3)], dim=0)


def test_unsupported_dtype_is_named():
    with pytest.raises(TypeError, match="unsupported dtype float16"):
        mt.from_numpy(np.zeros(2, np.float16))
    with pytest.raises(TypeError, match="unsupported dtype"):
        mt.tensor([1.0], dtype="complex64")


def test_requires_grad_only_for_floats_and_leaves():
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2], requires_grad=True)
    x = mt.tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False


def test_item_numpy_and_conversion_errors():
    assert mt.tensor([3.5]).item() == 3.5
    with pytest.raises(ValueError, match="3 elements"):
        mt.ones(3).item()
    with pytest.raises(RuntimeError, match="detach"):
        mt.ones(2, requires_grad=True).numpy()


def test_to_dot_names_nodes_and_marks_leaves():
    a = mt.tensor([2.0, 3.0], requires_grad=True)
    b = mt.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    dot = mt.autograd.to_dot(Q, params={"a": a, "b": b})
    assert dot.startswith("digraph")
    for name in ("SubBackward0", "MulBackward0", "PowBackward0"):
        assert name in dot
    assert dot.count("fillcolor=lightblue") == 2 and 'a (2)' in dot and 'b (2)' in dot


def test_inference_mode_records_nothing_as_context_and_decorator():
    x = mt.ones(2, requires_grad=True)
    with mt.inference_mode():
        assert mt.is_inference_mode_enabled() and not mt.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None and mt.is_grad_enabled()

    @mt.inference_mode()
    def called(a):
        return a * 2

    @mt.inference_mode
    def bare(a):
        return a * 2

    assert not called(x).requires_grad and not bare(x).requires_grad
    with mt.no_grad(), mt.inference_mode(False):
        assert not mt.is_grad_enabled() and not mt.is_inference_mode_enabled()


def test_cast_methods_and_layout_queries():
    x = mt.tensor([[1.5, -2.5]])
    assert x.int().dtype == mt.int32 and x.int().tolist() == [[1, -2]]
    assert x.long().dtype == mt.int64 and x.bool().dtype == mt.bool and x.double().dtype == \
        mt.float64
    assert x.float() is x  # the same dtype: the tensor itself, as torch
    assert x.is_contiguous() and not mt.ones(2, 3).t().is_contiguous()
    assert x.is_floating_point() and mt.is_floating_point(x) and not x.int().is_floating_point()
    with pytest.raises(TypeError, match="float16"):
        x.half()


def test_inplace_unary_forms_write_storage_and_refuse_unsafe_casts():
    x = mt.tensor([0.0, 1.0, 4.0])
    alias = x[1:]
    assert x.sqrt_() is x and alias.tolist() == [1.0, 2.0]
    for op in ("neg_", "exp_", "log_", "abs_", "sigmoid_", "tanh_", "sin_", "cos_", "floor_",
               "square_", "reciprocal_", "sign_"):
        before = x._version
        getattr(x, op)()
        assert x._version == before + 1, op
    with pytest.raises(RuntimeError, match="can't be cast"):
        mt.tensor([1, 2]).sqrt_()
    leaf = mt.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.exp_()
    a = mt.tensor([0.5, 2.0], requires_grad=True)
    b = a * 1
    b.log_()
    b.sum().backward()
    assert a.grad.tolist() == [2.0, 0.5]


def test_floor_divide_records_but_has_no_derivative_as_torch():
    x = mt.tensor([3.0, -3.0], requires_grad=True)
    q = x // 2
    assert q.tolist() == [1.0, -2.0] and q.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not "
                                           "implemented"):
        q.sum().backward()
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mt.tensor([1, 2]) // mt.tensor([0, 1])


def test_function_forms_take_out_and_numbers_as_torch():
    x, y = mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0])
    z = mt.empty(2)
    assert mt.mul(x, y, out=z) is z and z.tolist() == [3.0, 8.0]
    assert mt.add(2, x).tolist() == [3.0, 4.0] and mt.add(1, 2).tolist() == 3
    assert mt.add(2, mt.tensor([1], dtype=mt.int32)).dtype == mt.int32  # a wrapped number
    with pytest.raises(TypeError, match=r"exp\(\): argument 'input'"):
        mt.exp(2.0)


# --- the legacy constructor ``Tensor(...)``, as PyTorch programs call it -----------------
@pytest.mark.parametrize("args", [([1, 2, 3],), ([[1.5, 2.0], [3.0, 4.0]],), ([True, False],),
                                  ((1, 2),), (2, 3), (4,), ()])
def test_legacy_constructor_matches_torch(args):
    torch = pytest.importorskip("torch")
    ours, theirs = mt.Tensor(*args), torch.Tensor(*args)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_legacy_constructor_refuses_float_sizes():
    with pytest.raises(TypeError, match="sizes must be ints"):
        mt.Tensor(2.5, 3)
