"""Unary maths ops, clamp, softmax and the elementwise tests (``isnan``...), each declared once
(``_registry``): the method, the ``mt.`` function and the in-place form from one declaration.
The Functions they call live in ``ops/elementwise.py``, ``ops/unary.py`` and ``ops/softmax.py``.
"""
import numpy as np

from ._op_args import _as_float, _no_bool, _promote_many
from ._registry import declare
from ._tensor_shape import _dim
from .autograd.variable import TensorBase
from .ops import activation as A
from .ops import angle as AN
from .ops import elementwise as E
from .ops import softmax as SM
from .ops import unary as U

__all__ = ["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "tan", "asin", "acos", "atan",
           "sinh", "cosh", "asinh", "acosh", "atanh", "atan2", "erf", "erfc", "log1p", "expm1",
           "log2", "log10", "exp2", "rsqrt", "reciprocal", "abs", "neg", "square", "sign",
           "floor", "ceil", "trunc", "round", "frac", "relu", "clamp", "isnan", "isinf",
           "isfinite", "softmax", "log_softmax"]


def _floating(name, fn, doc, alias=None):
    """A floating op: integer and bool inputs compute in the default float dtype. ``alias``:
    numpy's name, which torch has too (``arcsin`` for ``asin``)."""
    def op(input):  # noqa: A002 - PyTorch's argument names throughout
        return fn.apply(_as_float(input))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    names = (name, alias) if alias else True
    return declare(inplace=(name + "_", alias + "_") if alias else True, function=names,
                   method=names)(op)


exp = _floating("exp", E.Exp, "e ** input, elementwise.")
log = _floating("log", E.Log, "The natural logarithm, elementwise.")
sqrt = _floating("sqrt", E.Sqrt, "The square root, elementwise.")
tanh = _floating("tanh", E.Tanh, "The hyperbolic tangent, elementwise.")
sigmoid = _floating("sigmoid", E.Sigmoid, "1 / (1 + exp(-input)), elementwise.")
sin = _floating("sin", U.Sin, "The sine, elementwise.")
cos = _floating("cos", U.Cos, "The cosine, elementwise.")
tan = _floating("tan", U.Tan, "The tangent, elementwise.")
asin = _floating("asin", U.Asin, "The inverse sine, elementwise.", "arcsin")
acos = _floating("acos", U.Acos, "The inverse cosine, elementwise.", "arccos")
atan = _floating("atan", U.Atan, "The inverse tangent, elementwise.", "arctan")
sinh = _floating("sinh", U.Sinh, "The hyperbolic sine, elementwise.")
cosh = _floating("cosh", U.Cosh, "The hyperbolic cosine, elementwise.")
asinh = _floating("asinh", U.Asinh, "The inverse hyperbolic sine, elementwise.", "arcsinh")
acosh = _floating("acosh", U.Acosh, "The inverse hyperbolic cosine, elementwise.", "arccosh")
atanh = _floating("atanh", U.Atanh, "The inverse hyperbolic tangent, elementwise.", "arctanh")
erf = _floating("erf", U.Erf, "The error function, elementwise.")
erfc = _floating("erfc", U.Erfc, "1 - erf(input), accurate where erf is near 1.")
log1p = _floating("log1p", U.Log1p, "log(1 + input), accurate near 0.")
expm1 = _floating("expm1", U.Expm1, "exp(input) - 1, accurate near 0.")
log2 = _floating("log2", U.Log2, "The base-2 logarithm, elementwise.")
log10 = _floating("log10", U.Log10, "The base-10 logarithm, elementwise.")
exp2 = _floating("exp2", U.Exp2, "2 ** input, elementwise.")
rsqrt = _floating("rsqrt", U.Rsqrt, "1 / sqrt(input), elementwise.")
reciprocal = _floating("reciprocal", U.Reciprocal, "1 / input, elementwise.")


@declare(inplace=True, function=("atan2", "arctan2"), method=("atan2", "arctan2"))
def atan2(input, other):  # noqa: A002
    """The angle of the point (other, input), elementwise, in (-pi, pi]."""
    a, b = _promote_many("atan2", input, other, floating=True)
    return AN.Atan2.apply(a, b)


@declare(inplace=True, function=("abs", "absolute"), method=("abs", "absolute"))
def abs(input):  # noqa: A001,A002
    return E.Abs.apply(_no_bool(input, "abs"))


@declare(inplace=True, function=("neg", "negative"), method=("neg", "negative"))
def neg(input):  # noqa: A002
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    return E.Neg.apply(input)


@declare(inplace=True)
def square(input):  # noqa: A002
    """input ** 2 (a bool tensor squares to int64, as in torch)."""
    return input ** 2


def _rounding(name, fn):
    """A rounding op: integers pass through unchanged (a copy), floats round; bool is refused
    (but sign of a bool tensor is itself, as in torch)."""
    def op(input):  # noqa: A002
        kind = input._data.dtype.kind
        if kind == "b" and name != "sign":
            raise NotImplementedError(f'"{name}" not implemented for \'Bool\'')
        if kind == "b" or kind in "iu" and name != "sign":
            return input.clone()
        return fn.apply(input)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}``, elementwise (zero gradient: piecewise constant)."
    return declare(inplace=True)(op)


floor = _rounding("floor", U.Floor)
ceil = _rounding("ceil", U.Ceil)
trunc = _rounding("trunc", U.Trunc)
sign = _rounding("sign", U.Sign)


@declare(inplace=True)
def frac(input):  # noqa: A002
    """input - trunc(input) (floating inputs only, as torch)."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"frac_cpu" not implemented for \'{input.dtype}\'')
    return U.Frac.apply(input)


@declare(inplace=True)
def round(input, *, decimals=0):  # noqa: A001,A002
    """Round half to even (to ``decimals`` places); integers are returned unchanged."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError('"round" not implemented for \'Bool\'')
    if input._data.dtype.kind in "iu":
        if decimals:
            raise RuntimeError("round_cpu: integer inputs with decimals != 0 are not supported")
        return input.clone()
    return U.Round.apply(input, decimals=int(decimals))


@declare()
def relu(input):  # noqa: A002
    return A.ReLU.apply(input)


@declare(inplace=("clamp_", "clip_"), function=("clamp", "clip"), method=("clamp", "clip"))
def clamp(input, min=None, max=None):  # noqa: A002
    """min(max(input, min), max); bounds are numbers or tensors (broadcast)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    x, lo, hi = _promote_many("clamp", input, min, max, checked=True)
    one_tensor_bound = (min is None) != (max is None) and isinstance(
        min if max is None else max, TensorBase)
    if x._data.dtype == np.bool_ and not one_tensor_bound:
        # (PyTorch's clamp_min / clamp_max with a tensor bound take bool; nothing else does)
        raise RuntimeError("clamp: not implemented for bool tensors")
    return E.Clamp.apply(x, lo, hi)


def _test(name, ufunc):
    def op(input):  # noqa: A002
        return E.Compare.apply(input, None, op=ufunc)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}`` elementwise: a bool tensor."
    return declare()(op)


def _isnan(a, _b): return np.isnan(a)
def _isinf(a, _b): return np.isinf(a)
def _isfinite(a, _b): return np.isfinite(a)


isnan = _test("isnan", _isnan)
isinf = _test("isinf", _isinf)
isfinite = _test("isfinite", _isfinite)


_KERNEL_TYPES = {"b": "Bool", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long", "u1": "Byte"}


def _softmax(fn, t, dim, dtype):
    if dtype is not None:
        t = t.type(dtype)
    d = _dim(dim, t.ndim)
    if t._data.dtype.kind != "f":
        if t._data.size == 0:   # torch computes nothing, so checks nothing: an empty copy
            return t.clone()
        kind = t._data.dtype
        name = _KERNEL_TYPES.get("b" if kind == np.bool_ else f"{kind.kind}{kind.itemsize}",
                                 str(t.dtype))
        kernel = ("log_" if fn is SM.LogSoftmax else "") + (
            "softmax_lastdim_kernel_impl" if d == max(t.ndim, 1) - 1 else "softmax_kernel_impl")
        raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')
    if t.ndim == 0:
        return fn.apply(t.reshape(1), dim=0).reshape(())
    return fn.apply(t, dim=d)


@declare()
def softmax(input, dim, dtype=None):  # noqa: A002
    """exp(input) / sum(exp(input)) along ``dim``."""
    return _softmax(SM.Softmax, input, dim, dtype)


@declare()
def log_softmax(input, dim, dtype=None):  # noqa: A002
    """log(softmax(input, dim)), computed stably."""
    return _softmax(SM.LogSoftmax, input, dim, dtype)
