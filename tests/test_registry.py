"""The op registry: one declaration gives the method, the mt. function, the F. entry and the
in-place form, all with the same behaviour."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import _registry
from minitorch.functions import _wrapped_number
from minitorch.ops import elementwise as E
from minitorch.tensor import Tensor


def _toy_registry():
    reg = _registry.Registry()

    @reg.declare(method="twice", function=("twice", "double_it"), functional="twice",
                 inplace="twice_", out=False)
    def twice(input, scale=1.0):  # noqa: A002
        """2 * scale * input."""
        return E.Mul.apply(input, np.asarray(2.0 * scale, input._data.dtype))

    return reg


class _ToyTensor(Tensor):
    pass


_TOY = _toy_registry()
for _name, _method in _TOY.methods():
    setattr(_ToyTensor, _name, _method)


def test_one_declaration_gives_method_function_functional_and_alias():
    functions = _TOY.functions(_wrapped_number)
    functional = _TOY.functional(_wrapped_number)
    assert set(functions) == {"twice", "double_it"} and set(functional) == {"twice"}
    x = _ToyTensor(np.array([1.0, -2.0], np.float32))
    expected = [4.0, -8.0]
    for result in (x.twice(2.0), functions["twice"](x, 2.0), functions["double_it"](x, scale=2.0),
                   functional["twice"](x, 2.0)):
        assert result.tolist() == expected and result.dtype == mt.float32
    assert functions["twice"].__doc__ == "2 * scale * input."


def test_declared_forms_record_the_same_gradient():
    fn = _TOY.functions(_wrapped_number)["twice"]
    a = _ToyTensor(np.array([1.0, 3.0]), requires_grad=True)
    fn(a, 0.5).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_declared_inplace_form_writes_storage_and_bumps_version():
    x = _ToyTensor(np.array([1.0, 2.0, 3.0], np.float32))
    view = x[1:]
    before = x._version
    out = x.twice_(scale=0.5)
    assert out is x and x.tolist() == [1.0, 2.0, 3.0]
    x.twice_()
    assert x.tolist() == [2.0, 4.0, 6.0] and view.tolist() == [4.0, 6.0]
    assert x._version == before + 2


def test_declared_inplace_form_follows_the_inplace_protocol():
    leaf = _ToyTensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.twice_()
    a = _ToyTensor(np.array([1.0, 2.0]), requires_grad=True)
    b = a * 1  # (a plain Tensor: results are made by Function.apply)
    dict(_TOY.methods())["twice_"](b, 3.0)
    assert b.grad_fn is not None and b.tolist() == [6.0, 12.0]
    b.sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]


def test_function_form_refuses_a_non_tensor_input_as_torch():
    fn = _TOY.functions(_wrapped_number)["twice"]
    with pytest.raises(TypeError, match=r"twice\(\): argument 'input' .* must be Tensor, not list"):
        fn([1.0, 2.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
        fn(mt.ones(2), out=mt.ones(2))


def test_a_name_declared_twice_is_refused():
    reg = _toy_registry()
    reg.declare(method="twice", function="other")(lambda input: input)
    with pytest.raises(RuntimeError, match="method 'twice' is declared twice"):
        reg.methods()


def test_minitorch_exports_every_declared_function_and_method():
    for op in _registry.REGISTRY.ops:
        for name in op.functions:
            assert getattr(mt, name).__wrapped__ is op.fn and name in mt.__all__
        for name in op.methods:
            assert getattr(Tensor, name) is op.fn
        for name in op.inplaces:
            assert callable(getattr(Tensor, name))
        for name in op.functionals:
            assert getattr(F, name) is F.DECLARED[name], f"F.{name} is defined twice"
    for module in (mt, F):
        assert len(set(module.__all__)) == len(module.__all__)


def test_declared_exp_and_sum_as_torch():
    x = mt.tensor([[1, 2], [3, 4]])
    assert mt.exp(x).dtype == mt.float32  # an int input gives the default float dtype
    assert mt.sum(x).dtype == mt.int64 and mt.sum(x, dim=0).tolist() == [4, 6]
    assert mt.sum(x, 1, keepdim=True, dtype=mt.float64).dtype == mt.float64
    y = mt.tensor([0.0, 1.0])
    assert y.exp_() is y and y.tolist() == pytest.approx([1.0, np.e])
    with pytest.raises(RuntimeError, match="can't be cast"):
        mt.tensor([1, 2]).exp_()


def test_out_writes_into_the_given_tensor_with_torchs_rules():
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = mt.empty(2, dtype=mt.float64)
    assert mt.sum(x, 0, out=out) is out and out.tolist() == [4.0, 6.0]
    assert out.dtype == mt.float64  # a wider dtype takes the result
    empty = mt.empty(0)
    mt.exp(mt.zeros(3), out=empty)
    assert empty.tolist() == [1.0, 1.0, 1.0]
    with pytest.warns(UserWarning, match="resized"):
        mt.sum(x, 1, out=mt.empty(5))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        mt.exp(x, out=mt.empty(2, 2, dtype=mt.int64))
    with pytest.raises(RuntimeError, match=r"exp\(\): functions with out=... arguments"):
        mt.exp(mt.ones(2, requires_grad=True), out=mt.empty(2))
    with mt.no_grad():
        mt.exp(mt.zeros(2, requires_grad=True), out=out)
    assert out.tolist() == [1.0, 1.0] and not out.requires_grad
