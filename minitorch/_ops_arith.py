"""Binary arithmetic, comparisons and logical ops, each declared once (``_registry``): the
functions ``mt.add(a, b, alpha=2)``, ``mt.div(a, b, rounding_mode="floor")``, ``mt.eq``, ... and
the methods of the same names. The Python operators (``_tensor_math``) call the same code.
"""
import numpy as np

from . import _promotion as P
from ._op_args import (_cast, _check_bool_sub, _check_pow, _integral, _operand, _promote,
                       _tensors_only)
from ._registry import _TYPE as _TYPE_NAME, declare
from .autograd.variable import TensorBase
from .ops import elementwise as E
from .ops import inplace as OI
from .ops import matmul as M
from .ops import rounding as RD

__all__ = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
           "maximum", "minimum", "matmul", "eq", "ne", "lt", "le", "gt", "ge", "logical_and",
           "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
           "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "binary",
           "compare", "rounded", "shift"]


def binary(op, a, b, fn, reverse=False, true_div=False):
    """``fn`` of tensor ``a`` and ``b`` (tensor or number) in PyTorch's result dtype."""
    a, b = _promote(op, a, b, floating=true_div)
    if reverse:
        a, b = b, a
    return fn.apply(a, b)


def compare(op, a, b, ufunc):
    """A non-differentiable elementwise ``ufunc`` (comparison, bitwise) in the promoted dtype."""
    a, b = _promote(op, a, b)
    return E.Compare.apply(a, b, op=ufunc)


def _scaled(op, input, other, alpha):
    """``alpha * other`` for add/sub, with torch's check that alpha fits ``input``'s kind."""
    if alpha == 1:
        return other
    dt = P.result_type(_operand(input), _operand(other))
    kind = dt.kind
    if isinstance(alpha, float) and kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if kind == "b":
        # bool arithmetic: torch casts alpha to bool
        return other if alpha else (other * False if isinstance(other, TensorBase) else False)
    if kind in "iu":
        P.checked_scalar(alpha, dt)   # torch refuses an alpha the dtype cannot hold
    return (_cast(other, dt) if isinstance(other, TensorBase) else other) * alpha


# ----------------------------------------------------------------------------- arithmetic
@declare(scalar_input=True)
def add(input, other, *, alpha=1):  # noqa: A002 - PyTorch's argument names throughout
    """input + alpha * other."""
    return binary("add", input, _scaled("add", input, other, alpha), E.Add)


@declare(scalar_input=True, function=("sub", "subtract"), method=("sub", "subtract"))
def sub(input, other, *, alpha=1):  # noqa: A002
    """input - alpha * other (refused for bool operands, as in torch)."""
    _check_bool_sub(input, other)
    return binary("sub", input, _scaled("sub", input, other, alpha), E.Sub)


@declare(scalar_input=True, function=("mul", "multiply"), method=("mul", "multiply"))
def mul(input, other):  # noqa: A002
    return binary("mul", input, other, E.Mul)


_ROUNDING = (None, "trunc", "floor")


@declare(scalar_input=True, function=("div", "divide"), method=("div", "divide"))
def div(input, other, *, rounding_mode=None):  # noqa: A002
    """True division (integers give the default float dtype), or rounded to an integer value
    with ``rounding_mode`` "trunc" or "floor" in the promoted dtype (gradient 0, as torch)."""
    if rounding_mode not in _ROUNDING:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found {rounding_mode!r}")
    if rounding_mode is None:
        return binary("div", input, other, E.Div, true_div=True)
    return rounded("div", input, other, RD.RoundedDiv, mode=rounding_mode)


@declare(scalar_input=True)
def true_divide(input, other):  # noqa: A002
    return binary("true_divide", input, other, E.Div, true_div=True)


@declare(scalar_input=True)
def floor_divide(input, other):  # noqa: A002
    """input // other rounded towards -inf (Python's ``//``); no derivative, as in torch."""
    return rounded("floor_divide", input, other, RD.FloorDivide)


@declare(scalar_input=True)
def remainder(input, other):  # noqa: A002
    """input % other with the sign of the divisor (Python's ``%``)."""
    if getattr(input, "_wrapped_number", False):  # mt.remainder(7, t): no derivative, as torch
        return rounded("remainder", other, input._data.item(), RD.NumberRemainder, reverse=True)
    return rounded("remainder", input, other, OI.Remainder)


@declare()
def fmod(input, other):  # noqa: A002
    """The C remainder: the sign of the dividend."""
    return rounded("fmod", input, other, RD.Fmod)


def rounded(op, a, b, fn, reverse=False, **static):
    """A rounding division or remainder ``fn`` of tensor ``a`` and ``b`` in the promoted dtype
    (not for bool, as in torch); ``reverse``: ``b <op> a`` (``7 // t``)."""
    a, b = _promote(op, a, b)
    if a._data.dtype == np.bool_:
        raise NotImplementedError(f'"{op}" not implemented for \'Bool\'')
    return fn.apply(b, a, **static) if reverse else fn.apply(a, b, **static)


@declare(scalar_input=True)
def pow(input, exponent):  # noqa: A001,A002
    """input ** exponent (PyTorch's integer rules: see ``_op_args._check_pow``)."""
    if getattr(input, "_wrapped_number", False) and isinstance(exponent, TensorBase):
        base = input._data.item()  # mt.pow(2, t) is 2 ** t
        return binary("pow", _check_pow(exponent, base, True), base, E.Pow, reverse=True)
    return binary("pow", _check_pow(input, exponent), exponent, E.Pow)


@declare()
def maximum(input, other):  # noqa: A002
    return binary("maximum", _tensors_only("maximum", input, other), other, E.Maximum)


@declare()
def minimum(input, other):  # noqa: A002
    return binary("minimum", _tensors_only("minimum", input, other), other, E.Minimum)


@declare()
def matmul(input, other):  # noqa: A002
    """The matrix product with numpy/PyTorch broadcasting of batch dims."""
    a, b = input, other
    for x in (a, b):
        if not isinstance(x, TensorBase):
            raise TypeError(f"matmul: expected Tensor operands, got {type(x).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")
    if a._data.dtype == np.bool_:
        from ._ops_linalg import check_bool_product
        # the kernel torch's matmul reaches for these ranks
        check_bool_product(a, b, "dot" if a.ndim == b.ndim == 1 else "addmv_impl_cpu"
                           if b.ndim == 1 else "addmm_impl_cpu_" if b.ndim == 2 else "bmm")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({k_a} != {k_b})")
    return M.MatMul.apply(a, b)


def shift(op, a, b, left, reverse=False):
    """The Python operators ``<<`` and ``>>`` (``reverse``: ``b << a``, as ``1 << t``)."""
    return _shift_run(op, a, b, _shift_left if left else _shift_right, reverse)


# ----------------------------------------------------------------------------- comparisons
def _elementwise(name, ufunc, run, doc, aliases=()):
    """Declare ``name(input, other)`` = ``run(name, input, other, ufunc)``, its in-place form
    ``name_`` and ``aliases``: the comparisons, logical and bitwise ops (no gradient)."""
    def op(input, other):  # noqa: A002
        return run(name, input, other, ufunc)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{ufunc.__name__}``: {doc}."
    names = (name,) + aliases
    return declare(method=names, function=names, inplace=name + "_")(op)


def _logical_run(name, input, other, ufunc):  # noqa: A002
    if not isinstance(other, TensorBase):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return E.Compare.apply(input, other, op=ufunc)


def _bitwise_run(name, input, other, ufunc):  # noqa: A002
    return compare(name, _integral(input, name), other, ufunc)


_BOOL = "a bool tensor"
eq = _elementwise("eq", np.equal, compare, _BOOL)
ne = _elementwise("ne", np.not_equal, compare, _BOOL, ("not_equal",))
lt = _elementwise("lt", np.less, compare, _BOOL, ("less",))
le = _elementwise("le", np.less_equal, compare, _BOOL, ("less_equal",))
gt = _elementwise("gt", np.greater, compare, _BOOL, ("greater",))
ge = _elementwise("ge", np.greater_equal, compare, _BOOL, ("greater_equal",))
_TRUTH = "of the truth values (non-zero is True), a bool tensor"
logical_and = _elementwise("logical_and", np.logical_and, _logical_run, _TRUTH)
logical_or = _elementwise("logical_or", np.logical_or, _logical_run, _TRUTH)
logical_xor = _elementwise("logical_xor", np.logical_xor, _logical_run, _TRUTH)
_INTS = "of integer or bool tensors"
bitwise_and = _elementwise("bitwise_and", np.bitwise_and, _bitwise_run, _INTS)
bitwise_or = _elementwise("bitwise_or", np.bitwise_or, _bitwise_run, _INTS)
bitwise_xor = _elementwise("bitwise_xor", np.bitwise_xor, _bitwise_run, _INTS)




def _shift_run(name, input, other, ufunc, reverse=False):  # noqa: A002
    """A shift in the promoted dtype; floats and bool-by-bool are refused as torch does."""
    a, b = _promote(name, input, other)
    if reverse:
        a, b = b, a
    dt = a._data.dtype if isinstance(a, TensorBase) else a.dtype
    if dt.kind in "fb":
        label = "lshift_cpu" if ufunc is _shift_left else "rshift_cpu"
        raise NotImplementedError(f'"{label}" not implemented for \'{_TYPE_NAME[dt.name]}\'')
    return E.Compare.apply(a, b, op=ufunc)


def _shift_left(a, b):
    """``a << b`` as torch: a count outside [0, bits) gives 0 (numpy's is undefined there)."""
    inside = (b >= 0) & (b < 8 * a.dtype.itemsize)
    return np.where(inside, np.left_shift(a, np.where(inside, b, 0)), 0).astype(a.dtype)


def _shift_right(a, b):
    """``a >> b`` as torch: a count outside [0, bits) fills with the sign bit (0 or -1)."""
    bits = 8 * a.dtype.itemsize
    inside = (b >= 0) & (b < bits)
    if a.dtype.kind == "u":
        return np.where(inside, np.right_shift(a, np.where(inside, b, 0)), 0).astype(a.dtype)
    return np.right_shift(a, np.where(inside, b, bits - 1).astype(a.dtype))


_SHIFTS = "by the bits of ``other``, in the promoted integer dtype"
bitwise_left_shift = _elementwise("bitwise_left_shift", _shift_left, _shift_run, _SHIFTS)
bitwise_right_shift = _elementwise("bitwise_right_shift", _shift_right, _shift_run, _SHIFTS)


def _logical_not(a, _b):
    return np.logical_not(a)


@declare(inplace=True)
def logical_not(input):  # noqa: A002
    """Elementwise not of the truth values: a bool tensor."""
    return E.Compare.apply(input, None, op=_logical_not)


def _invert(a, _b):
    return np.invert(a)


@declare(inplace=True)
def bitwise_not(input):  # noqa: A002
    return E.Compare.apply(_integral(input, "bitwise_not"), None, op=_invert)
