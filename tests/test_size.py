"""minitorch.Size, __format__ on tensors and dtype names: printed and behaving as torch's."""
import pickle

import pytest

import minitorch as mt


def _torch():
    return pytest.importorskip("torch")


def test_shape_and_size_are_a_size_that_prints_like_torch():
    x = mt.zeros(2, 3)
    assert isinstance(x.shape, mt.Size) and isinstance(x.size(), mt.Size)
    assert repr(x.shape) == str(x.size()) == "minitorch.Size([2, 3])"
    assert f"{x.shape}" == "minitorch.Size([2, 3])"
    assert repr(mt.zeros(()).shape) == "minitorch.Size([])"
    assert x.size(1) == 3 and x.size(-1) == 3 and type(x.size(0)) is int


def test_size_is_a_tuple():
    s = mt.Size([2, 3])
    assert s == (2, 3) and hash(s) == hash((2, 3)) and tuple(s) == (2, 3)
    rows, cols = s
    assert (rows, cols) == (2, 3)
    assert s.numel() == 6 and mt.Size([]).numel() == 1 and mt.Size([4, 0]).numel() == 0
    assert isinstance(s[1:], mt.Size) and s[1:] == (3,) and type(s[0]) is int
    assert isinstance(s + (4,), mt.Size) and isinstance((1,) + s, mt.Size)
    assert isinstance(s * 2, mt.Size) and s * 2 == (2, 3, 2, 3)
    assert pickle.loads(pickle.dumps(s)) == s
    assert mt.zeros(s).shape == s and mt.Size([mt.tensor(3)]) == (3,)
    with pytest.raises(TypeError, match="iterable of 'int'.*item 0 is 'float'"):
        mt.Size([2.5])


def test_size_matches_torch():
    t = _torch()
    for dims in [[2, 3], [], [5]]:
        assert repr(mt.Size(dims)).replace("minitorch", "torch") == repr(t.Size(dims))
        assert mt.Size(dims).numel() == t.Size(dims).numel()
    x, tx = mt.zeros(4, 1, 2), t.zeros(4, 1, 2)
    assert str(x.shape).replace("minitorch", "torch") == str(tx.shape)
    assert str(x.shape[1:]).replace("minitorch", "torch") == str(tx.shape[1:])


def test_format_spec_on_a_0d_tensor_formats_its_number():
    assert f"{mt.tensor(1.23456):.3f}" == "1.235"
    assert f"{mt.tensor(2.5, requires_grad=True):.2f}" == "2.50"
    assert f"{mt.tensor(3):>5}" == "    3" and f"{mt.tensor(3):.2f}" == "3.00"
    assert f"{mt.tensor(True)}" == "True" and f"{mt.tensor(2.5)}" == "2.5"


def test_format_spec_on_a_tensor_with_dims_is_torchs_type_error():
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        f"{mt.tensor([1.5]):.2f}"
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(mt.zeros(2, 2), ".2f")
    assert f"{mt.tensor([1.0, 2.0])}" == repr(mt.tensor([1.0, 2.0]))


def test_format_matches_torch():
    t = _torch()
    for value, spec in [(1.23456, ".4f"), (3, ">4"), (True, ""), (-0.5, ".1e"), (7, "d")]:
        assert format(mt.tensor(value), spec) == format(t.tensor(value), spec)
    for maker in (lambda m: m.tensor([1.5]), lambda m: m.zeros(2, 2)):
        with pytest.raises(TypeError):
            format(maker(t), ".2f")
        with pytest.raises(TypeError):
            format(maker(mt), ".2f")


def test_dtypes_print_with_the_module_name_as_torch():
    t = _torch()
    for name in ("float32", "float64", "int64", "int32", "bool"):
        assert repr(getattr(mt, name)) == f"minitorch.{name}"
        assert str(getattr(mt, name)).replace("minitorch", "torch") == str(getattr(t, name))
    assert mt.float is mt.float32 and mt.long is mt.int64 and mt.double is mt.float64
