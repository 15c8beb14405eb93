"""More unary maths Functions: trigonometric, log/exp variants, reciprocal, and the piecewise
constant rounding ops (zero gradient, as PyTorch's). Each class is its forward ufunc and its
derivative; the input arrives in a floating dtype (rounding ops also take integers).
``df_graph`` is the derivative in recorded Tensor ops (create_graph), where ``df``'s numpy form
does not run on Tensors as it is.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import special as SP

__all__ = ["Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
           "Atanh", "Erf", "Erfc", "Log1p", "Expm1", "Log2", "Log10", "Exp2", "Rsqrt",
           "Reciprocal", "Floor", "Ceil", "Round", "Trunc", "Sign", "Frac"]

_LN2 = np.log(2.0)
_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_LN10 = np.log(10.0)


class _Unary(Function):
    """``out = f(a)``; ``backward`` is ``grad * df(a, out)``. ``saves`` says which of a and the
    output the derivative needs (only those are saved, so only those are version-checked)."""

    saves = "a"  # "a", "out" or ""

    @staticmethod
    def f(a):
        raise NotImplementedError

    @staticmethod
    def df(a, out):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, a):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(cls.f(a))
        ctx.save_for_backward(a if "a" in cls.saves else None,
                              out if "out" in cls.saves else None)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        a, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return grad * cls.df(a, out)

    @classmethod
    def backward_graph(cls, ctx, grad):
        a, out = ctx.saved_tensors
        a = None if a is None else ctx.saved_input(0, a)
        out = None if out is None else ctx.saved_output(out)
        return grad * (cls.df_graph or cls.df)(a, out)

    df_graph = None


class Sin(_Unary):
    f = staticmethod(np.sin)
    df = staticmethod(lambda a, out: np.cos(a))
    df_graph = staticmethod(lambda a, out: a.cos())


class Cos(_Unary):
    f = staticmethod(np.cos)
    df = staticmethod(lambda a, out: -np.sin(a))
    df_graph = staticmethod(lambda a, out: -a.sin())


class Tan(_Unary):
    saves = "out"
    f = staticmethod(np.tan)
    df = staticmethod(lambda a, out: 1 + out * out)


class Asin(_Unary):
    f = staticmethod(np.arcsin)
    df = staticmethod(lambda a, out: 1 / np.sqrt(1 - a * a))
    df_graph = staticmethod(lambda a, out: (1 - a * a).rsqrt())


class Acos(_Unary):
    f = staticmethod(np.arccos)
    df = staticmethod(lambda a, out: -1 / np.sqrt(1 - a * a))
    df_graph = staticmethod(lambda a, out: -(1 - a * a).rsqrt())


class Atan(_Unary):
    f = staticmethod(np.arctan)
    df = staticmethod(lambda a, out: 1 / (1 + a * a))


class Sinh(_Unary):
    f = staticmethod(np.sinh)
    df = staticmethod(lambda a, out: np.cosh(a))
    df_graph = staticmethod(lambda a, out: a.cosh())


class Cosh(_Unary):
    f = staticmethod(np.cosh)
    df = staticmethod(lambda a, out: np.sinh(a))
    df_graph = staticmethod(lambda a, out: a.sinh())


class Asinh(_Unary):
    f = staticmethod(np.arcsinh)
    df = staticmethod(lambda a, out: 1 / np.sqrt(a * a + 1))
    df_graph = staticmethod(lambda a, out: (a * a + 1).rsqrt())


class Acosh(_Unary):
    f = staticmethod(np.arccosh)
    df = staticmethod(lambda a, out: 1 / np.sqrt(a * a - 1))
    df_graph = staticmethod(lambda a, out: (a * a - 1).rsqrt())


class Atanh(_Unary):
    f = staticmethod(np.arctanh)
    df = staticmethod(lambda a, out: 1 / (1 - a * a))


def _flat(kernel):
    """``kernel(out, x)`` on flat arrays, as a ufunc-like ``f(a)``."""
    def f(a):
        out = np.empty(a.shape, a.dtype)   # (ascontiguousarray would make a 0-d array 1-d)
        kernel(out.reshape(-1), np.ascontiguousarray(a).reshape(-1))
        return out
    return f


class Erf(_Unary):
    f = staticmethod(_flat(SP.erf))
    df = staticmethod(lambda a, out: np.exp(-a * a) * a.dtype.type(_TWO_OVER_SQRT_PI))
    df_graph = staticmethod(lambda a, out: (-(a * a)).exp() * _TWO_OVER_SQRT_PI)


class Erfc(_Unary):
    f = staticmethod(_flat(SP.erfc))
    df = staticmethod(lambda a, out: np.exp(-a * a) * a.dtype.type(-_TWO_OVER_SQRT_PI))
    df_graph = staticmethod(lambda a, out: (-(a * a)).exp() * -_TWO_OVER_SQRT_PI)


class Log1p(_Unary):
    node_name = "Log1PBackward0"
    f = staticmethod(np.log1p)
    df = staticmethod(lambda a, out: 1 / (a + 1))


class Expm1(_Unary):
    saves = "out"
    f = staticmethod(np.expm1)
    df = staticmethod(lambda a, out: out + 1)


class Log2(_Unary):
    f = staticmethod(np.log2)
    df = staticmethod(lambda a, out: 1 / (a * a.dtype.type(_LN2)))
    df_graph = staticmethod(lambda a, out: 1 / (a * _LN2))


class Log10(_Unary):
    f = staticmethod(np.log10)
    df = staticmethod(lambda a, out: 1 / (a * a.dtype.type(_LN10)))
    df_graph = staticmethod(lambda a, out: 1 / (a * _LN10))


class Exp2(_Unary):
    saves = "out"
    f = staticmethod(np.exp2)
    df = staticmethod(lambda a, out: out * out.dtype.type(_LN2))
    df_graph = staticmethod(lambda a, out: out * _LN2)


class Rsqrt(_Unary):
    saves = "out"
    f = staticmethod(lambda a: 1 / np.sqrt(a))
    df = staticmethod(lambda a, out: out * out * out * out.dtype.type(-0.5))
    df_graph = staticmethod(lambda a, out: out * out * out * -0.5)


class Reciprocal(_Unary):
    saves = "out"
    f = staticmethod(np.reciprocal)
    df = staticmethod(lambda a, out: -out * out)


class _Flat(_Unary):
    """Piecewise constant: PyTorch's gradient is zero everywhere."""

    saves = ""

    @classmethod
    def backward(cls, ctx, grad):
        return np.zeros_like(grad)

    @classmethod
    def backward_graph(cls, ctx, grad):  # a constant: it needs no gradient, as torch's
        return ctx.constant(np.zeros_like(grad._data))


class Floor(_Flat):
    f = staticmethod(np.floor)


class Ceil(_Flat):
    f = staticmethod(np.ceil)


class Trunc(_Flat):
    f = staticmethod(np.trunc)


def _sign(a):
    # (torch's sign is (a > 0) - (a < 0): 0 at NaN, where np.sign gives NaN)
    if a.dtype.kind != "f":
        return np.sign(a)
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Sign(_Flat):
    node_name = "SignBackward0"
    f = staticmethod(_sign)


class Round(_Flat):
    """Half to even, as PyTorch (and numpy); ``decimals`` scales first."""

    @staticmethod
    def forward(ctx, a, *, decimals=0):
        return np.asarray(np.round(a, decimals))


class Frac(_Unary):
    """``a - trunc(a)``; d/da = 1."""

    saves = ""
    f = staticmethod(lambda a: a - np.trunc(a))

    @classmethod
    def backward(cls, ctx, grad):
        return grad

    backward_graph = backward
