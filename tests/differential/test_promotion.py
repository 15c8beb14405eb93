"""PyTorch's type promotion, table by table: every pair of dtypes, each operand a dimensioned
tensor, a 0-d tensor or a Python scalar, through arithmetic, comparisons, where and clamp.
Each cell is a small program run in both libraries (dtype, values, errors compared); a failing
table lists every cell that differs."""
import itertools

import pytest

from .harness import diff_program

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]
VALUES = {"bool": "[True, False, True]", "uint8": "[200, 3, 0]", "int8": "[-100, 7, 0]",
          "int16": "[300, -2, 1]", "int32": "[2, -3, 0]", "int64": "[5, 1, -2]",
          "float32": "[1.5, -0.25, 0.0]", "float64": "[-2.5, 3.0, 0.5]"}
SCALARS = {"bool": "True", "int32": "3", "int64": "-2", "float32": "2.5", "float64": "-0.5"}


def _operands():
    """(kind, dtype, source) for every operand form: tensor, 0-d tensor, Python scalar."""
    out = []
    for dt in DTYPES:
        out.append(("tensor", dt, f"lib.tensor({VALUES[dt]}, dtype=lib.{dt})"))
        out.append(("0-d", dt, f"lib.tensor({VALUES[dt][1:].split(',')[0]}, dtype=lib.{dt})"))
    for name, src in (("bool", "True"), ("int", "3"), ("float", "2.5")):
        out.append(("scalar", name, src))
    return out


def _table(expr):
    """Every operand pair (at least one a tensor) through ``expr`` (with {a} and {b})."""
    bad = []
    for (ka, da, a), (kb, db, b) in itertools.product(_operands(), repeat=2):
        if ka == "scalar" and kb == "scalar":
            continue
        lines = [f"a = {a}", f"b = {b}", "r = " + expr.format(a="a", b="b")]
        diffs = diff_program(lines)
        if diffs:
            bad.append(f"{ka} {da} with {kb} {db}: {expr}: " + "; ".join(diffs))
    return bad


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_arithmetic_promotion(op):
    bad = _table("{a} %s {b}" % op)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("op", ["<", "==", ">="])
def test_comparison_promotion(op):
    bad = _table("{a} %s {b}" % op)
    assert not bad, "\n".join(bad)


def test_where_promotion():
    bad = _table("lib.where(lib.tensor([True, False, True]), {a}, {b})")
    assert not bad, "\n".join(bad)


def test_clamp_promotion():
    # tensor input; bounds both scalars or both tensors, as torch's signatures allow
    bad = []
    for (ka, da, a), (kb, db, b) in itertools.product(_operands(), repeat=2):
        if ka == "scalar":
            continue
        for expr in ("x.clamp(min=b)", "x.clamp(max=b)", "x.clamp(b, b)"):
            if kb == "scalar" and expr == "x.clamp(b, b)" and db == "bool":
                continue
            diffs = diff_program([f"x = {a}", f"b = {b}", f"r = {expr}"])
            if diffs:
                bad.append(f"{ka} {da} with bound {kb} {db}: {expr}: " + "; ".join(diffs))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("fn", ["sqrt", "exp", "log", "sigmoid", "tanh", "abs", "neg", "relu",
                                "sum", "mean", "std", "amax", "argmax", "softmax"])
def test_unary_dtypes(fn):
    """Integer and bool inputs of floating ops give float32; sum of bool/int is int64; what
    torch refuses (mean of an int tensor, -bool, softmax of ints) minitorch refuses."""
    bad = []
    for dt in DTYPES:
        call = {"neg": "-x", "softmax": "x.softmax(0)"}.get(fn, f"x.{fn}()")
        lines = [f"x = lib.tensor({VALUES[dt]}, dtype=lib.{dt})", f"r = {call}"]
        diffs = diff_program(lines)
        if diffs:
            bad.append(f"{dt}: {call}: " + "; ".join(diffs))
    assert not bad, "\n".join(bad)


def test_matmul_dtypes():
    bad = []
    for da, db in itertools.product(DTYPES, repeat=2):
        lines = [f"a = lib.tensor([{VALUES[da]}, {VALUES[da]}], dtype=lib.{da})",
                 f"b = lib.tensor({VALUES[db]}, dtype=lib.{db})", "r = a @ b"]
        diffs = diff_program(lines)
        if diffs:
            bad.append(f"{da} @ {db}: " + "; ".join(diffs))
    assert not bad, "\n".join(bad)


def test_gradients_flow_through_promotion():
    lines = ["x = lib.tensor([1.5, -2.0], requires_grad=True)",
             "d = lib.tensor([0.5, 4.0], dtype=lib.float64, requires_grad=True)",
             "i = lib.tensor([2, 3])",
             "y = x * d + x / i + lib.tensor(3., dtype=lib.float64) * x",
             "(y * lib.tensor([1., 2.], dtype=lib.float64)).sum().backward()"]
    assert not diff_program(lines)
