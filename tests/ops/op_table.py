"""The table of core ops: each row drives a forward check against numpy, a float64 gradcheck over
hypothesis-generated (broadcasting) shapes, and live parity with PyTorch when it is installed.

A row: (name, arity, minitorch fn, numpy reference, torch fn name or lambda, input domain).
Domains keep inputs where the op is smooth: "any", "positive" (log, sqrt, pow base), "apart"
(max/min/abs: values kept away from ties and from 0, where the derivative jumps).
"""
import importlib
import importlib.util

import numpy as np

import minitorch as mt


def _np_softmax(a, dim):
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


OPS = [
    # binary, broadcasting
    ("add", 2, lambda a, b: a + b, np.add, lambda a, b: a + b, "any"),
    ("sub", 2, lambda a, b: a - b, np.subtract, lambda a, b: a - b, "any"),
    ("mul", 2, lambda a, b: a * b, np.multiply, lambda a, b: a * b, "any"),
    ("div", 2, lambda a, b: a / b, np.divide, lambda a, b: a / b, "positive"),
    ("pow", 2, lambda a, b: a ** b, np.power, lambda a, b: a ** b, "positive"),
    ("maximum", 2, mt.maximum, np.maximum, "maximum", "apart"),
    ("minimum", 2, mt.minimum, np.minimum, "minimum", "apart"),
    # unary
    ("neg", 1, lambda a: -a, np.negative, lambda a: -a, "any"),
    ("pow_scalar", 1, lambda a: a ** 3, lambda a: a ** 3, lambda a: a ** 3, "any"),
    ("rpow_scalar", 1, lambda a: 2.0 ** a, lambda a: 2.0 ** a, lambda a: 2.0 ** a, "any"),
    ("exp", 1, mt.exp, np.exp, "exp", "any"),
    ("log", 1, mt.log, np.log, "log", "positive"),
    ("sqrt", 1, mt.sqrt, np.sqrt, "sqrt", "positive"),
    ("abs", 1, mt.abs, np.abs, "abs", "apart"),
    ("tanh", 1, mt.tanh, np.tanh, "tanh", "any"),
    ("sigmoid", 1, mt.sigmoid, lambda a: 1 / (1 + np.exp(-a)), "sigmoid", "any"),
    ("clamp", 1, lambda a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
     lambda a: a.clamp(-0.5, 0.5), "apart"),
    # function forms and the maths of issue 12 (one declaration each in minitorch/_ops_*.py)
    ("add_alpha", 2, lambda a, b: mt.add(a, b, alpha=2), lambda a, b: a + 2 * b,
     lambda a, b: __import__("torch").add(a, b, alpha=2), "any"),
    ("sub_alpha", 2, lambda a, b: mt.sub(a, b, alpha=0.5), lambda a, b: a - 0.5 * b,
     lambda a, b: __import__("torch").sub(a, b, alpha=0.5), "any"),
    ("mul_fn", 2, mt.mul, np.multiply, "mul", "any"),
    ("true_divide", 2, mt.true_divide, np.divide, "true_divide", "positive"),
    ("div_floor", 2, lambda a, b: mt.div(a * 4, b, rounding_mode="floor"),
     lambda a, b: np.floor_divide(a * 4, b),
     lambda a, b: __import__("torch").div(a * 4, b, rounding_mode="floor"), "positive"),
    ("remainder", 2, lambda a, b: mt.remainder(a * 3, b), lambda a, b: np.remainder(a * 3, b),
     lambda a, b: __import__("torch").remainder(a * 3, b), "positive"),
    ("fmod", 2, lambda a, b: mt.fmod(-a * 3, b), lambda a, b: np.fmod(-a * 3, b),
     lambda a, b: __import__("torch").fmod(-a * 3, b), "positive"),
    ("pow_fn", 2, mt.pow, np.power, "pow", "positive"),
    ("sin", 1, mt.sin, np.sin, "sin", "any"),
    ("cos", 1, mt.cos, np.cos, "cos", "any"),
    ("asin", 1, lambda a: mt.asin(a * 0.4), lambda a: np.arcsin(a * 0.4),
     lambda a: __import__("torch").asin(a * 0.4), "positive"),
    ("acos", 1, lambda a: mt.arccos(a * 0.4), lambda a: np.arccos(a * 0.4),
     lambda a: __import__("torch").acos(a * 0.4), "positive"),
    ("atan", 1, mt.atan, np.arctan, "atan", "any"),
    ("atan2", 2, mt.atan2, np.arctan2, "atan2", "apart"),
    ("erf", 1, mt.erf, lambda a: np.vectorize(__import__("math").erf)(a), "erf", "any"),
    ("erfc", 1, mt.erfc, lambda a: np.vectorize(__import__("math").erfc)(a), "erfc", "any"),
    ("sinh", 1, mt.sinh, np.sinh, "sinh", "any"),
    ("cosh", 1, mt.cosh, np.cosh, "cosh", "any"),
    ("asinh", 1, mt.asinh, np.arcsinh, "asinh", "any"),
    ("acosh", 1, lambda a: mt.acosh(a + 1), lambda a: np.arccosh(a + 1),
     lambda a: __import__("torch").acosh(a + 1), "positive"),
    ("atanh", 1, lambda a: mt.atanh(a * 0.4), lambda a: np.arctanh(a * 0.4),
     lambda a: __import__("torch").atanh(a * 0.4), "positive"),
    ("tan", 1, lambda a: mt.tan(a * 0.5), lambda a: np.tan(a * 0.5),
     lambda a: __import__("torch").tan(a * 0.5), "apart"),
    ("log1p", 1, mt.log1p, np.log1p, "log1p", "positive"),
    ("expm1", 1, mt.expm1, np.expm1, "expm1", "any"),
    ("log2", 1, mt.log2, np.log2, "log2", "positive"),
    ("log10", 1, mt.log10, np.log10, "log10", "positive"),
    ("exp2", 1, mt.exp2, np.exp2, "exp2", "any"),
    ("rsqrt", 1, mt.rsqrt, lambda a: 1 / np.sqrt(a), "rsqrt", "positive"),
    ("reciprocal", 1, mt.reciprocal, np.reciprocal, "reciprocal", "positive"),
    ("square", 1, mt.square, np.square, "square", "any"),
    ("neg_fn", 1, mt.neg, np.negative, "neg", "any"),
    ("floor", 1, lambda a: mt.floor(a * 3), lambda a: np.floor(a * 3),
     lambda a: __import__("torch").floor(a * 3), "apart"),
    ("ceil", 1, lambda a: mt.ceil(a * 3), lambda a: np.ceil(a * 3),
     lambda a: __import__("torch").ceil(a * 3), "apart"),
    ("round", 1, lambda a: mt.round(a * 3), lambda a: np.round(a * 3),
     lambda a: __import__("torch").round(a * 3), "apart"),
    ("trunc", 1, lambda a: mt.trunc(a * 3), lambda a: np.trunc(a * 3),
     lambda a: __import__("torch").trunc(a * 3), "apart"),
    ("sign", 1, mt.sign, np.sign, "sign", "apart"),
    ("frac", 1, lambda a: mt.frac(a * 3), lambda a: a * 3 - np.trunc(a * 3),
     lambda a: __import__("torch").frac(a * 3), "apart"),
    ("prod", 1, lambda a: mt.prod(a), np.prod, "prod", "apart"),
    ("prod_dim", 1, lambda a: a.prod(-1, keepdim=True), lambda a: a.prod(-1, keepdims=True),
     lambda a: a.prod(-1, keepdim=True), "apart"),
    ("cumsum", 1, lambda a: mt.cumsum(a, -1), lambda a: np.cumsum(a, -1),
     lambda a: __import__("torch").cumsum(a, -1), "any"),
    ("cumprod", 1, lambda a: a.cumprod(0), lambda a: np.cumprod(a, 0), lambda a: a.cumprod(0),
     "apart"),
    ("logsumexp", 1, lambda a: mt.logsumexp(a, -1),
     lambda a: np.log(np.exp(a).sum(-1)), lambda a: __import__("torch").logsumexp(a, -1), "any"),
    ("norm", 1, lambda a: mt.norm(a), lambda a: np.sqrt((a * a).sum()), "norm", "any"),
    ("norm_1_dim", 1, lambda a: a.norm(1, dim=-1), lambda a: np.abs(a).sum(-1),
     lambda a: a.norm(1, dim=-1), "apart"),
    ("norm_inf", 1, lambda a: a.norm(float("inf"), dim=0, keepdim=True),
     lambda a: np.abs(a).max(0, keepdims=True),
     lambda a: a.norm(float("inf"), dim=0, keepdim=True), "apart"),
    ("norm_3", 1, lambda a: a.norm(3), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3),
     lambda a: a.norm(3), "apart"),
    ("var_correction", 1, lambda a: mt.var(a, 0, correction=0), lambda a: a.var(0),
     lambda a: __import__("torch").var(a, 0, correction=0), "any"),
    ("std_dim_keepdim", 1, lambda a: a.std(-1, keepdim=True),
     lambda a: a.std(-1, ddof=1, keepdims=True), lambda a: a.std(-1, keepdim=True), "any"),
    ("mean_fn_dims", 1, lambda a: mt.mean(a, (-1,), keepdim=True),
     lambda a: a.mean((-1,), keepdims=True),
     lambda a: __import__("torch").mean(a, (-1,), keepdim=True), "any"),
    # reductions
    ("sum", 1, lambda a: a.sum(), np.sum, lambda a: a.sum(), "any"),
    ("sum_dim", 1, lambda a: a.sum(-1), lambda a: a.sum(-1), lambda a: a.sum(-1), "any"),
    ("sum_keepdim", 1, lambda a: a.sum(0, keepdim=True), lambda a: a.sum(0, keepdims=True),
     lambda a: a.sum(0, keepdim=True), "any"),
    ("mean", 1, lambda a: a.mean(), np.mean, lambda a: a.mean(), "any"),
    ("mean_dim", 1, lambda a: a.mean(-1), lambda a: a.mean(-1), lambda a: a.mean(-1), "any"),
    ("max", 1, lambda a: a.max(), np.max, lambda a: a.max(), "apart"),
    ("min", 1, lambda a: a.min(), np.min, lambda a: a.min(), "apart"),
    ("max_dim", 1, lambda a: a.max(-1)[0], lambda a: a.max(-1), lambda a: a.max(-1)[0], "apart"),
    ("min_dim_keepdim", 1, lambda a: a.min(0, keepdim=True).values,
     lambda a: a.min(0, keepdims=True), lambda a: a.min(0, keepdim=True).values, "apart"),
    ("amax_dim", 1, lambda a: a.amax(-1), lambda a: a.max(-1), lambda a: a.amax(-1), "apart"),
    ("amin", 1, lambda a: a.amin(), np.min, lambda a: a.amin(), "apart"),
    ("var_dim", 1, lambda a: a.var(-1), lambda a: a.var(-1, ddof=1), lambda a: a.var(-1),
     "any"),
    ("std", 1, lambda a: a.std(), lambda a: a.std(ddof=1), lambda a: a.std(), "any"),
    # shape
    ("reshape", 1, lambda a: a.reshape(-1), lambda a: a.reshape(-1), lambda a: a.reshape(-1),
     "any"),
    ("transpose", 1, lambda a: a.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1),
     lambda a: a.transpose(0, -1), "any"),
    ("flatten", 1, lambda a: a.flatten(), np.ravel, lambda a: a.flatten(), "any"),
    ("unsqueeze", 1, lambda a: a.unsqueeze(0), lambda a: a[None], lambda a: a.unsqueeze(0),
     "any"),
    ("squeeze", 1, lambda a: a.unsqueeze(1).squeeze(1), lambda a: a,
     lambda a: a.unsqueeze(1).squeeze(1), "any"),
    ("expand", 1, lambda a: a.unsqueeze(0).expand(3, *a.shape),
     lambda a: np.broadcast_to(a, (3,) + a.shape), lambda a: a.unsqueeze(0).expand(3, *a.shape),
     "any"),
    ("index_basic", 1, lambda a: a[..., :1], lambda a: a[..., :1], lambda a: a[..., :1], "any"),
    ("index_ints", 1, lambda a: a.flatten()[[0, 0, -1]], lambda a: a.ravel()[[0, 0, -1]],
     lambda a: a.flatten()[[0, 0, -1]], "any"),
    ("cat", 2, lambda a, b: mt.cat([a.flatten(), b.flatten()]),
     lambda a, b: np.concatenate([a.ravel(), b.ravel()]),
     lambda a, b: __import__("torch").cat([a.flatten(), b.flatten()]), "any"),
    ("stack", 1, lambda a: mt.stack([a, a * 2], dim=-1), lambda a: np.stack([a, a * 2], -1),
     lambda a: __import__("torch").stack([a, a * 2], dim=-1), "any"),
    ("where", 2, lambda a, b: mt.where(a > b, a, b), lambda a, b: np.where(a > b, a, b),
     lambda a, b: __import__("torch").where(a > b, a, b), "apart"),
    # (+ b: so that b, which only makes the mask, has a gradient too)
    ("masked_fill", 2, lambda a, b: a.masked_fill(a > b, 0.5) + b,
     lambda a, b: np.where(a > b, np.asarray(0.5, a.dtype), a) + b,
     lambda a, b: a.masked_fill(a > b, 0.5) + b, "apart"),
    # matmul and softmax
    ("matmul", 2, "matmul", np.matmul, "matmul", "any"),
    ("bmm", 2, lambda a, b: mt.bmm(a.reshape(1, 1, -1), b.reshape(1, -1, 1)),
     lambda a, b: np.matmul(a.reshape(1, 1, -1), b.reshape(1, -1, 1)),
     lambda a, b: __import__("torch").bmm(a.reshape(1, 1, -1), b.reshape(1, -1, 1)), "any"),
    ("softmax", 1, lambda a: a.softmax(-1), lambda a: _np_softmax(a, -1),
     lambda a: a.softmax(-1), "any"),
    ("log_softmax", 1, lambda a: a.log_softmax(-1), lambda a: np.log(_np_softmax(a, -1)),
     lambda a: a.log_softmax(-1), "any"),
]

BROADCASTING = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "add_alpha",
                "sub_alpha", "mul_fn", "true_divide", "div_floor", "remainder", "fmod", "pow_fn"}

# Other topics keep their rows in their own tables (same row format; a module may also export
# BROADCASTING): they run through the same tests. Only the tables that exist are added.
for _table in ("op_table_index", "op_table_linalg", "op_table_nn"):
    if importlib.util.find_spec(f"{__package__}.{_table}") is not None:
        _module = importlib.import_module(f"{__package__}.{_table}")
        OPS = OPS + list(_module.OPS)
        BROADCASTING = BROADCASTING | set(getattr(_module, "BROADCASTING", ()))


def make_inputs(rng, shapes, domain, dtype=np.float64):
    arrays = []
    for shape in shapes:
        if domain == "positive":
            a = rng.uniform(0.5, 2.0, shape)
        elif domain == "apart":
            # distinct magnitudes, well away from 0, so no two elements tie
            n = int(np.prod(shape))
            a = (rng.permutation(n) + 1.0 + rng.uniform(0.1, 0.4, n)) / n
            a = (a * rng.choice([-1.0, 1.0], n)).reshape(shape) + len(arrays) * 0.05
        else:
            a = rng.standard_normal(shape)
        arrays.append(a.astype(dtype))
    return arrays
