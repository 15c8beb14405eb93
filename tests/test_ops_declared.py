"""Issue 12's maths functions and methods, live against torch 2.13 over every dtype: the same
value, dtype and shape, or an error in both. (Gradients: the op table's float64 gradcheck.)"""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

_INPUTS = {
    "f": ([[1.5, -2.0, 0.0], [0.25, 3.0, -0.5]], "float32"),
    "d": ([2.0, -3.5, 7.0], "float64"),
    "i": ([[4, -7, 0], [3, 5, -1]], "int64"),
    "j": ([3, -2, 5], "int32"),
    "b": ([True, False, True], "bool"),
    "s": (2.5, "float32"),
}

_EXPRESSIONS = [
    "lib.add({a}, {b})", "lib.add({a}, {b}, alpha=2)", "lib.add({a}, {b}, alpha=0.5)",
    "lib.sub({a}, {b}, alpha=3)", "lib.subtract({a}, {b})", "lib.mul({a}, {b})",
    "lib.multiply({a}, 2)", "lib.div({a}, {b})", "lib.divide({a}, 2)",
    "lib.div({a}, {b}, rounding_mode='floor')", "lib.div({a}, {b}, rounding_mode='trunc')",
    "lib.div({a}, 3, rounding_mode='trunc')", "lib.div({a}, {b}, rounding_mode='up')",
    "lib.true_divide({a}, {b})", "lib.floor_divide({a}, {b})", "{a} // {b}", "{a} // 2",
    "7 // {a}", "{a} % {b}", "{a} % -3", "5.5 % {a}", "lib.remainder({a}, {b})",
    "lib.fmod({a}, {b})", "lib.fmod({a}, -2)", "lib.pow({a}, 2)", "lib.pow({a}, {b})",
    "lib.pow(2, {a})", "lib.add(2, {a})", "lib.sub(1.5, {a})", "lib.mul(True, {a})",
    "lib.eq({a}, {b})", "lib.ne({a}, 1)", "lib.lt({a}, {b})", "lib.le({a}, 0)",
    "lib.gt({a}, {b})", "lib.ge({a}, 0.5)", "lib.greater({a}, 0)", "lib.less_equal({a}, {b})",
    "lib.not_equal({a}, {b})", "lib.logical_and({a}, {b})", "lib.logical_or({a}, {b})",
    "lib.logical_xor({a}, {b})", "lib.logical_not({a})", "lib.bitwise_and({a}, {b})",
    "{a} ^ {b}", "lib.isnan({a} / 0)", "lib.isinf({a} / 0)", "lib.isfinite({a} / 0)",
    "lib.sin({a})", "lib.cos({a})", "lib.tan({a})", "lib.asin({a})", "lib.arccos({a})",
    "lib.atan({a})", "lib.sinh({a})", "lib.cosh({a})", "lib.asinh({a})", "lib.acosh({a})",
    "lib.arctanh({a})", "{a}.arcsin()", "lib.atan2({a}, {b})", "lib.arctan2({a}, {b})",
    "lib.erf({a})", "lib.erfc({a})", "lib.log1p({a})", "lib.expm1({a})",
    "lib.log2({a})", "lib.log10({a})", "lib.exp2({a})", "lib.rsqrt({a})", "lib.reciprocal({a})",
    "lib.square({a})", "lib.sign({a})", "lib.floor({a})", "lib.ceil({a})", "lib.round({a})",
    "lib.round({a}, decimals=1)", "lib.trunc({a})", "lib.frac({a})", "lib.neg({a})",
    "lib.negative({a})", "lib.absolute({a})", "lib.prod({a})", "lib.prod({a}, 0)",
    "lib.prod({a}, -1, keepdim=True)", "lib.cumsum({a}, 0)", "lib.cumsum({a}, -1)",
    "lib.cumprod({a}, 0)", "lib.cumsum({a}, 0, dtype=lib.float64)", "lib.logsumexp({a}, 0)",
    "lib.logsumexp({a}, -1, keepdim=True)", "lib.all({a})", "lib.any({a}, 0)",
    "lib.all({a}, -1, keepdim=True)", "lib.amax({a}, 0)", "lib.amin({a})",
    "lib.var({a}, 0, correction=0)", "lib.std({a}, -1, keepdim=True)", "lib.std({a})",
    "lib.mean({a}, dtype=lib.float64)", "lib.mean({a}, 0, dtype=lib.int64)",
    "lib.sum({a}, dtype=lib.float32)", "lib.sum({a}, 0, dtype=lib.int32)", "lib.norm({a})",
    "lib.norm({a}, 1)", "lib.norm({a}, float('inf'), dim=0)", "lib.norm({a}, p='fro', dim=-1)",
    "lib.norm({a}, 3, dim=0, keepdim=True)", "lib.norm({a}, 0)", "{a}.norm(dim=0)",
    "{a}.int()", "{a}.long()", "{a}.float()", "{a}.double()", "{a}.bool()",
    "lib.clamp({a}, 0, 1)", "lib.clip({a}, max=1)", "lib.softmax({a}, 0)",
    "lib.maximum({a}, {b})", "lib.matmul({a}, {b})",
]

_PAIRS = [("f", "f"), ("f", "i"), ("i", "i"), ("i", "j"), ("j", "f"), ("b", "b"), ("d", "f"),
          ("i", "b"), ("s", "d"), ("d", "j")]


def _run(lib, expr, a, b):
    ns = {"lib": lib}
    for key in {a, b}:
        data, dtype = _INPUTS[key]
        ns[key] = lib.tensor(data, dtype=getattr(lib, dtype))
    try:
        with np.errstate(all="ignore"):
            out = eval(expr.format(a=a, b=b), ns)  # noqa: S307 - test expressions only
    except Exception as e:  # noqa: BLE001 - an error is a result here
        return ("error", type(e).__name__)
    return (str(out.dtype).split(".")[-1], tuple(out.shape), out.detach().numpy().tolist())


@pytest.mark.parametrize("expr", _EXPRESSIONS)
def test_value_dtype_and_errors_match_torch(expr):
    problems = []
    for a, b in _PAIRS:
        ours, theirs = _run(mt, expr, a, b), _run(torch, expr, a, b)
        if ours[0] == "error" or theirs[0] == "error":
            if (ours[0] == "error") != (theirs[0] == "error"):
                problems.append(f"{a},{b}: minitorch {ours} torch {theirs}")
            continue
        if ours[:2] != theirs[:2] or not np.allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6,
                                                      equal_nan=True):
            problems.append(f"{a},{b}: minitorch {ours} torch {theirs}")
    assert not problems, "\n".join(problems)
