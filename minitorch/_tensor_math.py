"""Tensor's Python operators (a mixin of ``Tensor``): ``+ - * / // % ** @``, comparisons and
the bitwise operators, each the declared op of the same meaning (``_ops_arith``, ``_ops_math``).

The named methods (``add``, ``exp``, ``sum``, ...) are not here: they are declared once in
``minitorch/_ops_*.py`` and installed on Tensor from the registry (``_registry``). The operators
stay methods of a class because Python looks them up on the type.
"""
import numpy as np

from . import _ops_arith as A
from ._op_args import _check_bool_sub, _check_pow, _integral, _no_bool
from .ops import elementwise as E
from .ops import inplace as OI
from .ops import rounding as RD

__all__ = ["TensorMath"]


class TensorMath:
    __slots__ = ()

    # (the hot arithmetic calls binary() directly: one call less per operator in training)
    def __add__(self, o): return A.binary("add", self, o, E.Add)
    def __radd__(self, o): return A.binary("add", self, o, E.Add, reverse=True)
    def __sub__(self, o): return A.binary("sub", _check_bool_sub(self, o), o, E.Sub)
    def __rsub__(self, o):
        return A.binary("sub", _check_bool_sub(self, o), o, E.Sub, reverse=True)
    def __mul__(self, o): return A.binary("mul", self, o, E.Mul)
    def __rmul__(self, o): return A.binary("mul", self, o, E.Mul, reverse=True)
    def __truediv__(self, o): return A.binary("div", self, o, E.Div, true_div=True)
    def __rtruediv__(self, o):
        return A.binary("div", self, o, E.Div, reverse=True, true_div=True)
    def __floordiv__(self, o): return A.rounded("floor_divide", self, o, RD.FloorDivide)
    def __rfloordiv__(self, o):
        return A.rounded("floor_divide", self, o, RD.FloorDivide, reverse=True)
    def __mod__(self, o): return A.rounded("remainder", self, o, OI.Remainder)
    def __rmod__(self, o):
        return A.rounded("remainder", self, o, RD.NumberRemainder, reverse=True)
    def __pow__(self, o): return A.binary("pow", _check_pow(self, o), o, E.Pow)
    def __rpow__(self, o):
        return A.binary("pow", _check_pow(self, o, True), o, E.Pow, reverse=True)
    def __matmul__(self, o): return A.matmul(self, o)
    def __rmatmul__(self, o): return A.matmul(o, self)
    def __neg__(self): return E.Neg.apply(_no_bool(self, "neg"))
    def __pos__(self): return self
    def __abs__(self): return self.abs()
    def __eq__(self, o): return A.compare("eq", self, o, np.equal)
    def __ne__(self, o): return A.compare("ne", self, o, np.not_equal)
    def __lt__(self, o): return A.compare("lt", self, o, np.less)
    def __le__(self, o): return A.compare("le", self, o, np.less_equal)
    def __gt__(self, o): return A.compare("gt", self, o, np.greater)
    def __ge__(self, o): return A.compare("ge", self, o, np.greater_equal)
    def __invert__(self): return A.bitwise_not(self)
    def __and__(self, o): return A.compare("&", _integral(self, "&"), o, np.bitwise_and)
    def __or__(self, o): return A.compare("|", _integral(self, "|"), o, np.bitwise_or)
    def __xor__(self, o): return A.compare("^", _integral(self, "^"), o, np.bitwise_xor)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __lshift__(self, o): return A.shift("<<", self, o, left=True)
    def __rlshift__(self, o): return A.shift("<<", self, o, left=True, reverse=True)
    def __rshift__(self, o): return A.shift(">>", self, o, left=False)
    def __rrshift__(self, o): return A.shift(">>", self, o, left=False, reverse=True)
    # in place, as torch's (``mask &= other`` writes into mask's storage)
    def __iand__(self, o): return self.bitwise_and_(o)
    def __ior__(self, o): return self.bitwise_or_(o)
    def __ixor__(self, o): return self.bitwise_xor_(o)
    def __ilshift__(self, o): return self.bitwise_left_shift_(o)
    def __irshift__(self, o): return self.bitwise_right_shift_(o)

