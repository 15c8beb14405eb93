"""Elementwise maths ops, each declared once (``_registry``): unary functions, arithmetic and
comparisons as functions and methods. The Functions they call live in ``ops/elementwise.py``.
"""
from ._registry import declare
from ._tensor_math import _as_float
from .ops import elementwise as E

__all__ = ["exp", "log"]


@declare(inplace=True)
def exp(input):  # noqa: A002 - PyTorch's argument names throughout
    """e ** input, elementwise (integer inputs give the default float dtype)."""
    return E.Exp.apply(_as_float(input))


@declare(inplace=True)
def log(input):  # noqa: A002
    """The natural logarithm, elementwise."""
    return E.Log.apply(_as_float(input))
