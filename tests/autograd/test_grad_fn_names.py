"""``grad_fn.name()`` is PyTorch's node class name for each op form (live against torch), and
the differential harness reports a differing name when asked to compare them."""
import numpy as np
import pytest

import minitorch as mt
from tests.differential.harness import compare, run

torch = pytest.importorskip("torch")

F = {
    "t": lambda L, a: a.t(), "T": lambda L, a: a.T, "permute": lambda L, a: a.permute(1, 0),
    "transpose": lambda L, a: a.transpose(0, 1), "unsqueeze": lambda L, a: a.unsqueeze(0),
    "squeeze": lambda L, a: a.squeeze(), "squeeze_dim": lambda L, a: a[None].squeeze(0),
    "expand": lambda L, a: a.expand(4, 2, 3), "view": lambda L, a: a.view(6),
    "select": lambda L, a: a[0], "select_col": lambda L, a: a[:, 1], "slice": lambda L, a: a[1:],
    "slice_last": lambda L, a: a[0, 1:], "newaxis": lambda L, a: a[:, None],
    "index": lambda L, a: a[[0, 1]], "sum": lambda L, a: a.sum(), "sum_dim": lambda L, a: a.sum(0),
    "mean_dim": lambda L, a: a.mean((0, 1)), "max": lambda L, a: a.max(),
    "max_dim": lambda L, a: a.max(0)[0], "std": lambda L, a: a.std(0),
    "mm": lambda L, a: a @ a.t(), "dot": lambda L, a: a[0] @ a[1], "mv": lambda L, a: a @ a[0],
    "vm": lambda L, a: a[:, 0] @ a, "batched": lambda L, a: a.expand(2, 2, 3) @ a.t(),
    "clamp_scalar": lambda L, a: a.clamp(0, 1), "clamp_tensor": lambda L, a: a.clamp(min=a[0]),
    "pow": lambda L, a: a ** 2, "rpow": lambda L, a: 2 ** a, "pow_tensor": lambda L, a: a ** a,
    "rsub": lambda L, a: 1 - a, "sub": lambda L, a: a - 1, "clone": lambda L, a: a.clone(),
    "to": lambda L, a: a.double(), "linear": lambda L, a: L.nn.functional.linear(a, a),
    "linear_bias": lambda L, a: L.nn.functional.linear(a, a, a[0, :2]),
    "linear_vec": lambda L, a: L.nn.functional.linear(a[0], a),
    "sub_": lambda L, a: (a * 1).sub_(a), "fill_": lambda L, a: (a * 1).fill_(2.0),
    "relu": lambda L, a: a.relu(), "softmax": lambda L, a: a.softmax(1),
}


@pytest.mark.parametrize("name", sorted(F))
def test_grad_fn_name_matches_torch(name):
    a = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    ref = type(F[name](torch, torch.tensor(a, requires_grad=True)).grad_fn).__name__
    assert F[name](mt, mt.tensor(a, requires_grad=True)).grad_fn.name() == ref


def test_stale_view_regenerates_as_as_strided():
    for lib in (torch, mt):
        b = lib.ones(2, 3, requires_grad=True) * 1
        v = b[0]
        b.mul_(2)
        node = v.grad_fn
        assert (type(node).__name__ if lib is torch else node.name()) == "AsStridedBackward0"


def test_harness_reports_a_differing_grad_fn_name_only_when_asked():
    lines = ["x = lib.tensor([1.0, 2.0], requires_grad=True)", "y = x * 2"]
    ref, mine = run(torch, lines), run(mt, lines)
    mine.tensors["y"]["grad_fn"] = "DivBackward0"  # as if minitorch named it wrongly
    assert compare(ref, mine) == []
    assert compare(ref, mine, grad_fn_names=True) == [
        "y.grad_fn: torch MulBackward0, minitorch DivBackward0"]
