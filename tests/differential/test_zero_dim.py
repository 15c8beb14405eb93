"""0-d tensors through the ops of the core: reductions, softmax, max/min/argmax with dim 0 and
-1 (and keepdim), relu and the unary maths keep shape (), out-of-range dims raise as torch."""
import pytest

from .harness import diff_program

torch = pytest.importorskip("torch")

CALLS = ["x.sum(0)", "x.sum(-1)", "x.sum(0, keepdim=True)", "x.mean(0)", "x.mean(-1, keepdim=True)",
         "x.max(0)[0]", "x.max(0)[1]", "x.min(-1).values", "x.max(0, keepdim=True).indices",
         "x.argmax(0)", "x.argmin(-1)", "x.argmax()", "x.amax(0)", "x.amin(-1, keepdim=True)",
         "x.std(0)", "x.var(0, unbiased=False)", "x.softmax(0)", "x.log_softmax(-1)",
         "lib.softmax(x, 0)", "x.relu()", "lib.relu(x)", "x.exp()", "x.sigmoid()", "x.abs()",
         "x.clamp(0, 1)", "x.max()", "x.sum()", "x.sum(1)", "x.softmax(1)", "x.max(1)",
         "x.argmax(-2)", "x.all(0)", "x.any(-1)"]


@pytest.mark.parametrize("call", CALLS)
def test_zero_dim(call):
    lines = ["x = lib.tensor(0.75, requires_grad=True)", f"r = {call}",
             "(r * 2.5).sum().backward() if r.requires_grad else None"]
    diffs = diff_program(lines)
    assert not diffs, "\n".join(lines) + "\n# differs:\n#   " + "\n#   ".join(diffs)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64"])
def test_zero_dim_other_dtypes(dtype):
    bad = []
    for call in ["x.sum(0)", "x.max(0)[0]", "x.argmax(0)", "x.relu()", "x.amax(-1)",
                 "x.min(-1)[1]", "x.softmax(0)", "x.mean(0)"]:
        lines = [f"x = lib.tensor(1, dtype=lib.{dtype})", f"r = {call}"]
        diffs = diff_program(lines)
        if diffs:
            bad.append(f"{call}: " + "; ".join(diffs))
    assert not bad, "\n".join(bad)
