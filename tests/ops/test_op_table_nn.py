"""The nn.functional rows (op_table_nn.py): forward vs numpy, float64 gradcheck over random
shapes, and live parity (values and gradients) with PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch as mt

from .op_table import make_inputs
from .op_table_nn import OPS

IDS = [row[0] for row in OPS]


@pytest.mark.parametrize("row", OPS, ids=IDS)
def test_forward_matches_numpy(row):
    name, arity, fn, ref, _, domain = row
    arrays = make_inputs(np.random.default_rng(0), [(2, 3, 4)] * arity, domain, np.float32)
    out = fn(*[mt.tensor(a) for a in arrays])
    expected = np.asarray(ref(*[a.astype(np.float64) for a in arrays]))
    assert out.shape == expected.shape
    assert out.dtype == mt.float32
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("row", OPS, ids=IDS)
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_gradcheck_float64(row, data):
    name, arity, fn, _, _, domain = row
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    seed = data.draw(st.integers(0, 2**16))
    arrays = make_inputs(np.random.default_rng(seed), [shape] * arity, domain)
    inputs = [mt.tensor(a, dtype=mt.float64, requires_grad=True) for a in arrays]
    assert mt.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("row", OPS, ids=IDS)
def test_live_parity_with_torch(row):
    torch = pytest.importorskip("torch")
    name, arity, fn, _, tfn, domain = row
    rng = np.random.default_rng(1)
    arrays = make_inputs(rng, [(2, 3, 4)] * arity, domain, np.float32)
    ours = [mt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*ours), tfn(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(mt.tensor(g))
    tout.backward(torch.tensor(g))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.detach().numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)
