"""Values and gradients at the special points, as PyTorch defines them: pow at 0 and with
negative bases, 0 ** x, std/var of a constant and of one element, ties in max/min/amax/maximum,
clamp at and with tensor bounds, abs/sqrt/relu at 0, NaN and inf inputs."""
import pytest

from .harness import diff_program

torch = pytest.importorskip("torch")

X = "x = lib.tensor([-2.0, -1.0, 0.0, 0.0, 1.0, 2.0, 2.0], requires_grad=True)"
XN = "x = lib.tensor([-1.0, 0.0, 2.0, float('nan'), 2.0, float('inf')], requires_grad=True)"
W = "(r * lib.tensor(W[:r.numel()]).reshape(r.shape)).sum().backward()"
WEIGHTS = "W = [0.5, -1.0, 2.0, 1.5, -0.25, 3.0, 1.0]"

CASES = {
    "x ** 0": "x ** 0", "x ** 0.0": "x ** 0.0", "x ** 1": "x ** 1", "x ** 2": "x ** 2",
    "x ** 3": "x ** 3", "x ** -1": "x ** -1", "x ** 0.5": "x ** 0.5", "x ** -2.0": "x ** -2.0",
    "0 ** x": "0 ** x", "0.0 ** x": "0.0 ** x", "2 ** x": "2 ** x", "(-2) ** x": "(-2) ** x",
    "x ** x": "x ** x", "x ** tensor exponent": "x ** lib.tensor([0., 1., 0., -1., 2., 0.5, 3.])",
    "x.std()": "x.std()", "x.var()": "x.var()", "constant std": "(x * 0 + 3).std()",
    "constant var": "(x * 0 + 3).var()", "one element std": "x[:1].std()",
    "one element var unbiased=False": "x[:1].var(unbiased=False)",
    "constant std dim": "(x * 0).reshape(7, 1).std(1)", "x.max()": "x.max()",
    "x.min()": "x.min()", "x.amax()": "x.amax()", "x.amin()": "x.amin()",
    "max dim ties": "x.reshape(1, 7).max(1)[0]", "min dim ties": "x.reshape(1, 7).min(-1).values",
    "maximum ties": "lib.maximum(x, x.detach() * 0 + 2)",
    "maximum self": "lib.maximum(x, x)", "minimum ties": "lib.minimum(x, x * 0)",
    "clamp at bounds": "x.clamp(-1, 2)", "clamp min only": "x.clamp(min=0)",
    "clamp max only": "x.clamp(max=0)", "clamp min > max": "x.clamp(1, -1)",
    "clamp tensor bounds": "x.clamp(lib.tensor([-1., 0., 1., -1., 3., 0., 2.], requires_grad=True),"
                           " lib.tensor([1., 0., 2., 1., 0., 1., 2.], requires_grad=True))",
    "abs at 0": "x.abs()", "sqrt at 0": "x.sqrt()", "relu at 0": "x.relu()",
    "log at 0": "x.log()", "division by 0": "x / x", "sigmoid": "x.sigmoid()",
    "softmax ties": "x.softmax(0)", "where with nan branch": "lib.where(x > 0, x.log(), x)",
}


def test_signed_zero_ties_keep_the_first_operand():
    """On a tie torch's maximum/minimum/clamp keep their first operand (numpy its second): with
    -0.0 against 0.0 that shows as 1 / result = -inf or inf."""
    lines = ["a = lib.tensor([-0.0, 0.0])", "b = lib.tensor([0.0, -0.0])",
             "r1 = 1 / a.clamp(max=b)", "r2 = 1 / a.clamp(min=b)", "r3 = 1 / lib.minimum(a, b)",
             "r4 = 1 / lib.maximum(a, b)", "r5 = 1 / a.clamp(max=0.0)", "r6 = 1 / a.clamp(-0.0, 0.0)"]
    diffs = diff_program(lines)
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("expr", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("inputs", [X, XN], ids=["ties-and-zeros", "nan-and-inf"])
def test_special_values(expr, inputs):
    lines = [inputs, WEIGHTS, f"r = {expr}", W]
    diffs = diff_program(lines)
    assert not diffs, "\n".join(lines) + "\n# differs:\n#   " + "\n#   ".join(diffs)
