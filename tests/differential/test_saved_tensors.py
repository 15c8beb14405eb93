"""Each op saves only what its backward needs for the gradients wanted (PyTorch's rule): changing
an operand in place after the op is an error in backward exactly when torch says so."""
import itertools

import pytest

from .harness import diff_program

torch = pytest.importorskip("torch")

BINARY = {"mul": "a * b", "div": "a / b", "pow": "a ** b", "matmul": "a @ b",
          "maximum": "lib.maximum(a, b)", "add": "a + b", "sub": "a - b",
          "where": "lib.where(a > 1, a, b)", "clamp": "a.clamp(min=b)"}
UNARY = {"exp": "a.exp()", "log": "a.log()", "sqrt": "a.sqrt()", "tanh": "a.tanh()",
         "sigmoid": "a.sigmoid()", "abs": "a.abs()", "relu": "a.relu()", "sum": "a.sum()",
         "mean": "a.mean(0)", "max": "a.max()", "max dim": "a.max(0)[0]", "amax": "a.amax()",
         "std": "a.std()", "softmax": "a.softmax(0)", "log_softmax": "a.log_softmax(0)",
         "pow scalar": "a ** 2", "mul scalar": "a * 3"}


def _grad(flag):
    return ", requires_grad=True" if flag else ""


@pytest.mark.parametrize("op", BINARY)
def test_binary_op_saves_what_its_backward_needs(op):
    bad = []
    for ga, gb in ((True, False), (False, True), (True, True)):
        for changed in ("a", "b"):
            lines = [f"a0 = lib.tensor([[1.5, 2.0], [0.5, 3.0]]{_grad(ga)})",
                     f"b0 = lib.tensor([[2.0, 0.5], [1.0, 2.5]]{_grad(gb)})",
                     "a = a0 * 1", "b = b0 * 1", f"y = {BINARY[op]}",
                     f"with lib.no_grad(): {changed}.add_(1)", "y.sum().backward()"]
            diffs = diff_program(lines)
            if diffs:
                bad.append("\n".join(lines) + "\n#   " + "\n#   ".join(diffs))
    assert not bad, "\n\n".join(bad)


@pytest.mark.parametrize("op", UNARY)
def test_unary_op_saves_what_its_backward_needs(op):
    lines = ["a0 = lib.tensor([1.5, 2.0, 0.5], requires_grad=True)", "a = a0 * 1",
             f"y = {UNARY[op]}", "with lib.no_grad(): a.add_(1)", "y.sum().backward()"]
    diffs = diff_program(lines)
    assert not diffs, "\n".join(lines) + "\n#   " + "\n#   ".join(diffs)


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "sqrt", "softmax", "relu", "pow"])
def test_a_saved_result_changed_is_refused(op):
    expr = {"softmax": "a.softmax(0)", "relu": "a.relu()", "pow": "a ** a"}.get(op, f"a.{op}()")
    lines = ["a = lib.tensor([1.5, 2.0, 0.5], requires_grad=True)", f"y = {expr}",
             "with lib.no_grad(): y.mul_(2)", "y.sum().backward()"]
    diffs = diff_program(lines)
    assert not diffs, "\n".join(lines) + "\n#   " + "\n#   ".join(diffs)
