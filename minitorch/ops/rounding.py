"""Division with rounding and the remainders that PyTorch gives no (or a zero) gradient:
``div(rounding_mode=...)``, ``floor_divide``, ``fmod``. Inputs arrive promoted to one dtype.
"""
import numpy as np

from ..autograd.function import Function

__all__ = ["RoundedDiv", "FloorDivide", "Fmod", "NumberRemainder"]


def _quiet():
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def check_int_divisor(b):
    """Integer division by zero is an error in PyTorch (floats give inf/nan)."""
    b = np.asarray(b)
    if b.dtype.kind in "iu" and np.any(b == 0):
        raise RuntimeError("ZeroDivisionError")


def _trunc_div(a, b):
    if np.result_type(a, b).kind == "f":
        return np.trunc(np.divide(a, b))
    q = np.floor_divide(a, b)
    # floor and trunc differ where the division is inexact and the signs differ
    return q + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))


class RoundedDiv(Function):
    """``div(a, b, rounding_mode="trunc"|"floor")``: a piecewise constant, so PyTorch's gradient
    is zero for both inputs (node DivBackward2)."""

    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, *, mode):
        check_int_divisor(b)
        with _quiet():
            out = np.floor_divide(a, b) if mode == "floor" else _trunc_div(a, b)
        return np.asarray(out).astype(np.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, grad):
        zero = np.zeros_like(grad)
        return zero, zero

    @staticmethod
    def backward_graph(ctx, grad):  # constants: they need no gradient, as torch's
        zero = ctx.constant(np.zeros_like(grad._data))
        return zero, zero


class _NoDerivative(Function):
    """Recorded (the result requires grad, as in torch) but without a derivative: backward
    raises torch's error naming ``aten``."""

    node_name = "NotImplemented"
    ufunc = None
    aten = None

    @classmethod
    def forward(cls, ctx, a, b):
        check_int_divisor(b)
        with _quiet():
            return np.asarray(cls.ufunc(a, b))

    @classmethod
    def backward(cls, ctx, grad):
        raise RuntimeError(f"derivative for aten::{cls.aten} is not implemented")


class FloorDivide(_NoDerivative):
    """``a // b``."""

    ufunc = staticmethod(np.floor_divide)
    aten = "floor_divide"


class NumberRemainder(_NoDerivative):
    """``number % t`` (torch's ``remainder(Scalar, Tensor)``)."""

    ufunc = staticmethod(np.remainder)
    aten = "remainder"


class Fmod(Function):
    """``fmod(a, b)``: the remainder with the sign of ``a``; d/da = 1, d/db = -trunc(a / b)."""

    node_name = "FmodBackward1"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch: fmod(Tensor) / fmod(Scalar)
        return "FmodBackward1" if is_tensor[1] else "FmodBackward0"

    @staticmethod
    def forward(ctx, a, b):
        check_int_divisor(b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[1] else None)
        with _quiet():
            return np.asarray(np.fmod(a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = None
        if ctx.needs_input_grad[1]:
            with _quiet():
                gb = -grad * _trunc_div(a, b)
        return grad, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        return grad, (rounded_quotient_graph(ctx, grad, a, b, "trunc")
                      if ctx.needs_input_grad[1] else None)


def rounded_quotient_graph(ctx, grad, a, b, mode):
    """``-grad * div(a, b, rounding_mode=mode)``, the divisor's gradient of fmod (trunc) and
    remainder (floor), recorded: the rounded quotient is torch's zero-gradient op of both, so the
    result requires grad where the inputs do, as torch's."""
    return -grad * RoundedDiv.apply(ctx.saved_input(0, a), ctx.saved_input(1, b), mode=mode)

