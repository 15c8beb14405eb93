"""sort/topk values against torch 2.13: a 0-d input gives 0-d results that are tensors of their
own (not views: ``_base``, ``_is_view()``, in-place aliasing), and the values' grad_fn is named
after the op (SortBackward0, TopkBackward0)."""
import pytest

from tests.differential.harness import diff_program

torch = pytest.importorskip("torch")

PROGRAMS = [
    ["x = lib.tensor(3.)", "with lib.no_grad(): v, i = x.topk(1)", "b = v._base is None",
     "w = lib.tensor(float(v._is_view()))", "v.add_(1)"],
    ["x = lib.tensor(3., requires_grad=True)", "v, i = x.topk(1)",
     "w = lib.tensor(float(v._is_view()))", "(v * 2).backward()"],
    ["x = lib.tensor(3., requires_grad=True)", "v, i = x.sort()",
     "w = lib.tensor(float(v._is_view()))", "v.sum().backward()"],
    ["x = lib.tensor([3., 1., 2.], requires_grad=True)", "v, i = x.topk(2)",
     "(v * lib.tensor([1., 2.])).sum().backward()"],
    ["x = lib.tensor([[3., 1.], [0., 2.]], requires_grad=True)", "v, i = x.sort(0, descending=True)",
     "(v * v).sum().backward()"],
]


@pytest.mark.parametrize("lines", PROGRAMS, ids=lambda p: p[1])
def test_sort_and_topk_match_torch(lines):
    diffs = diff_program(lines, grad_fn_names=True)
    assert not diffs, "\n".join(diffs)
