"""Every core op: forward vs numpy, float64 gradcheck over generated shapes, PyTorch parity."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minitorch as mt

from .op_table import BROADCASTING, OPS, make_inputs

IDS = [row[0] for row in OPS]


def _mt_fn(fn):
    return (lambda a, b: a @ b) if fn == "matmul" else fn


def _shapes_for(name, arity, data):
    if name == "matmul":
        n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
        batch = data.draw(st.sampled_from([(), (2,)]))
        left = data.draw(st.sampled_from([batch + (n, k), (k,)]))
        right = data.draw(st.sampled_from([(k, m), batch + (k, m), (k,)]))
        return [left, right]
    if arity == 2 and name in BROADCASTING:
        shapes = data.draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                          min_side=1, max_side=4))
        return list(shapes.input_shapes)
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    return [shape] * arity


@pytest.mark.parametrize("row", OPS, ids=IDS)
def test_forward_matches_numpy(row):
    name, arity, fn, ref, _, domain = row
    rng = np.random.default_rng(0)
    shapes = [(2, 3, 4)] * arity if name != "matmul" else [(2, 3, 4), (4, 5)]
    if name in BROADCASTING:
        shapes = [(2, 3, 4), (3, 1)]
    arrays = make_inputs(rng, shapes, domain, np.float32)
    out = _mt_fn(fn)(*[mt.tensor(a) for a in arrays])
    expected = np.asarray(ref(*arrays))
    assert out.shape == expected.shape
    assert out.dtype == mt.float32
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("row", OPS, ids=IDS)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_gradcheck_float64(row, data):
    name, arity, fn, _, _, domain = row
    shapes = _shapes_for(name, arity, data)
    seed = data.draw(st.integers(0, 2**16))
    arrays = make_inputs(np.random.default_rng(seed), shapes, domain)
    inputs = [mt.tensor(a, dtype=mt.float64, requires_grad=True) for a in arrays]
    assert mt.autograd.gradcheck(_mt_fn(fn), inputs)


@pytest.mark.parametrize("row", OPS, ids=IDS)
def test_live_parity_with_torch(row):
    torch = pytest.importorskip("torch")
    name, arity, fn, _, tfn, domain = row
    rng = np.random.default_rng(1)
    shapes = [(2, 3, 4), (3, 1)] if name in BROADCASTING else [(2, 3, 4)] * arity
    if name == "matmul":
        shapes = [(2, 3, 4), (4, 5)]
    arrays = make_inputs(rng, shapes, domain, np.float32)
    ours = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _mt_fn(fn)(*ours)
    tfn = getattr(torch, tfn) if isinstance(tfn, str) else tfn
    tout = tfn(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(mt.tensor(g))
    tout.backward(torch.tensor(g))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.detach().numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_every_op_has_a_row():
    from minitorch.ops import (cumulative, elementwise, matmul, reduce, rounding, shape, softmax,
                               unary, vector_norm)

    exported = set()
    for mod in (elementwise, reduce, shape, softmax, matmul, unary, rounding, cumulative,
                vector_norm):
        exported |= set(mod.__all__)
    covered = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow",
               "Neg": "neg", "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs",
               "Tanh": "tanh", "Sigmoid": "sigmoid", "Maximum": "maximum",
               "Minimum": "minimum", "Where": "where", "MaskedFill": "masked_fill", "Bmm": "bmm", "Clamp": "clamp", "Sum": "sum",
               "Mean": "mean", "MaxAll": "max", "MinAll": "min", "MaxDim": "max_dim",
               "MinDim": "min_dim_keepdim", "Reshape": "reshape", "Permute": "transpose",
               "Expand": "expand", "Squeeze": "squeeze", "Unsqueeze": "unsqueeze",
               "UnfoldView": "unfold", "Cat": "cat",
               "Stack": "stack", "Slice": "index_basic", "Index": "index_ints",
               "MatMul": "matmul", "Softmax": "softmax", "LogSoftmax": "log_softmax",
               "Amax": "amax_dim", "Amin": "amin", "Var": "var_dim", "Std": "std",
               "Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "asin", "Acos": "acos",
               "Atan": "atan", "Sinh": "sinh", "Cosh": "cosh", "Asinh": "asinh",
               "Acosh": "acosh", "Atanh": "atanh", "Erf": "erf", "Erfc": "erfc",
               "Log1p": "log1p", "Expm1": "expm1",
               "Log2": "log2", "Log10": "log10", "Exp2": "exp2", "Rsqrt": "rsqrt",
               "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Round": "round",
               "Trunc": "trunc", "Sign": "sign", "Frac": "frac", "RoundedDiv": "div_floor",
               "Fmod": "fmod", "Prod": "prod", "CumSum": "cumsum", "CumProd": "cumprod",
               "VectorNorm": "norm", "LogSumExp": "logsumexp"}
    # Ops without a gradient (bool/int results) are checked by tests/differential instead.
    # FloorDivide, NumberRemainder: no derivative in torch either (tests/test_tensor.py).
    no_grad_ops = {"Compare", "ArgMax", "ArgMin", "Logical", "FloorDivide", "NumberRemainder"}
    assert exported == set(covered) | no_grad_ops, "a new op needs a row in tests/ops/op_table.py"
    assert set(covered.values()) <= set(IDS)
