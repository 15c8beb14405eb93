"""Elementwise Functions: arithmetic, pow and the unary maths. Broadcasting is NumPy's; the
gradients come back at the broadcast shape and ``Function.apply`` sums them to each input's.

Inputs arrive already promoted to one dtype (``minitorch._promotion``). Each forward saves only
what its backward needs for the inputs whose gradient is wanted (``ctx.needs_input_grad``), as
PyTorch does, so an in-place change of an operand nobody differentiates is not an error. The
gradients at special points (0 ** 0, ties, NaN, the clamp bounds) are PyTorch's formulas.

``backward_graph`` (create_graph=True) is each formula again in recorded Tensor ops; masks (ties,
bounds, signs) are constants there, as in PyTorch, whose second derivative ignores them too.
"""
import numpy as np

from ..autograd.function import Function

__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs", "Tanh",
           "Sigmoid", "Maximum", "Minimum", "Where", "MaskedFill", "Clamp", "Compare"]

# Division by zero, log(0), 0 * inf ... give inf/nan in PyTorch without a word; numpy warns.
def _quiet():
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _zero(grad):
    return np.zeros((), grad.dtype)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    backward_graph = backward  # (operators only: the same code runs on Tensors)


class Sub(Function):
    @staticmethod
    def name_for(is_tensor, arrays, static):  # scalar - tensor is PyTorch's rsub
        return "SubBackward0" if is_tensor[0] else "RsubBackward1"
    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    backward_graph = backward


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * ctx.saved_input(1, b) if ctx.needs_input_grad[0] else None,
                grad * ctx.saved_input(0, a) if ctx.needs_input_grad[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        with _quiet():
            return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with _quiet():
            ga = grad / b if ctx.needs_input_grad[0] else None
            # PyTorch's rounding order: -grad * ((a / b) / b)
            gb = -grad * ((a / b) / b) if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        b = ctx.saved_input(1, b)
        ga = grad / b if ctx.needs_input_grad[0] else None
        gb = -grad * ((ctx.saved_input(0, a) / b) / b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    """``a ** b`` for a tensor or scalar exponent ``b`` (a scalar arrives as a 0-d array)."""

    @staticmethod
    def name_for(is_tensor, arrays, static):  # tensor ** scalar, tensor ** tensor, scalar ** t
        return "PowBackward2" if not is_tensor[0] else (
            "PowBackward1" if is_tensor[1] else "PowBackward0")

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        if a.dtype.kind in "iu" and (np.asarray(b) < 0).any():
            out = _int_pow(a, b)
        else:
            with _quiet():
                out = np.power(a, b)
            if out.dtype != a.dtype:  # bool ** bool: numpy computes in int8
                out = out.astype(a.dtype)
        ctx.save_for_backward(a, b, out if need_b else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        with _quiet():
            if ctx.needs_input_grad[0]:
                # PyTorch: exactly 0 where the exponent is 0 (x ** 0 is flat, even at x = 0).
                ga = np.where(b == 0, _zero(grad), grad * b * np.power(a, b - 1))
            if ctx.needs_input_grad[1]:
                # d(a^b)/db = a^b log a, defined as 0 where a == 0 and b >= 0 (the mask is on
                # the derivative, not the product: a NaN gradient stays NaN, as in torch).
                gb = grad * np.where((a == 0) & (b >= 0), _zero(grad), out * np.log(a))
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b, out = ctx.saved_tensors
        ta, tb = ctx.saved_input(0, a), ctx.saved_input(1, b)
        ga = gb = None
        with _quiet():  # (grad outside the mask, as PyTorch's formulas: the same NaNs)
            if ctx.needs_input_grad[0] and not ctx.needs_input_grad[1] and np.all(b == 0):
                ga = ctx.constant(np.zeros(np.shape(a), grad._data.dtype))  # x ** 0: flat
            elif ctx.needs_input_grad[0]:
                local = tb * ta ** (tb - 1)
                ga = grad * (_masked(ctx, b == 0, local) if np.any(b == 0) else local)
            if ctx.needs_input_grad[1]:
                gb = grad * _masked(ctx, (a == 0) & (b >= 0), ctx.saved_output(out) * ta.log())
        return ga, gb


def _masked(ctx, mask, value):
    """``value`` with 0 where the (constant) bool array ``mask`` holds: ``np.where`` recorded."""
    return Where.apply(ctx.constant(mask), ctx.constant(np.zeros((), value._data.dtype)), value)


def _kept(ctx, mask, value):
    """``value`` where ``mask`` holds, 0 elsewhere (recorded)."""
    return Where.apply(ctx.constant(mask), value, ctx.constant(np.zeros((), value._data.dtype)))


def _int_pow(a, b):
    """Integer ``a ** b`` with negative exponents as PyTorch computes it (numpy refuses): 1 ** b
    is 1, (-1) ** b is +-1 by parity, any other base gives 0 (truncated 1 / a ** -b)."""
    out = np.power(a, np.maximum(b, 0))
    neg = np.broadcast_to(b < 0, out.shape)
    one = np.ones((), a.dtype)
    sign = np.where(np.broadcast_to(b % 2 == 1, out.shape), -one, one)
    small = np.where(a == 1, one, np.where(a == -1, sign, np.zeros((), a.dtype)))
    return np.where(neg, small, out)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad

    backward_graph = backward


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        with _quiet():
            out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out

    @staticmethod
    def backward_graph(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * ctx.saved_output(out)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet():
            return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        with _quiet():
            return grad / a

    @staticmethod
    def backward_graph(ctx, grad):
        (a,) = ctx.saved_tensors
        with _quiet():
            return grad / ctx.saved_input(0, a)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        with _quiet():
            out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with _quiet():
            return grad / (2 * out)

    @staticmethod
    def backward_graph(ctx, grad):
        (out,) = ctx.saved_tensors
        with _quiet():
            return grad / (2 * ctx.saved_output(out))


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        # sign(a) with PyTorch's sgn: 0 at 0 and at NaN (np.sign gives NaN there).
        sign = (a > 0).astype(grad.dtype) - (a < 0).astype(grad.dtype)
        return grad * sign

    @staticmethod
    def backward_graph(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * Sgn.apply(ctx.saved_input(0, a))


class Sgn(Function):
    """``sgn(a)`` (0 at 0 and NaN) with a zero gradient: the sign in abs's second derivative,
    recorded as PyTorch records it (so the gradient of abs requires grad there too)."""

    @staticmethod
    def forward(ctx, a):
        ctx.meta = (a.shape, a.dtype)
        return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)

    @staticmethod
    def backward_graph(ctx, grad):
        return ctx.constant(np.zeros(grad.shape, grad._data.dtype))


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)

    @staticmethod
    def backward_graph(ctx, grad):
        (out,) = ctx.saved_tensors
        out = ctx.saved_output(out)
        return grad * (1 - out * out)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        # exp(-|a|) never overflows; the two branches are the same function.
        e = np.exp(-np.abs(a))
        out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)

    @staticmethod
    def backward_graph(ctx, grad):
        (out,) = ctx.saved_tensors
        out = ctx.saved_output(out)
        return grad * out * (1 - out)


def _tie_split(grad, a, b, a_loses, b_loses):
    """PyTorch's maximum/minimum backward: half each on a tie, all of it to the winner, and all of
    it to *both* where neither wins nor ties (a NaN on either side)."""
    with _quiet():
        tie = a == b
        share = np.where(tie, grad * grad.dtype.type(0.5), grad)
        zero = _zero(grad)
        return np.where(a_loses, zero, share), np.where(b_loses, zero, share)


def _tie_split_graph(ctx, grad, a, b, a_loses, b_loses):
    """``_tie_split`` in recorded ops on a Tensor ``grad`` (the masks are constants)."""
    with _quiet():
        half = ctx.constant(np.asarray(0.5, grad._data.dtype))
        share = Where.apply(ctx.constant(a == b), grad * half, grad)
        ga = _masked(ctx, a_loses, share) if ctx.needs_input_grad[0] else None
        gb = _masked(ctx, b_loses, share) if ctx.needs_input_grad[1] else None
        return ga, gb


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(b, a)  # (numpy keeps its 2nd operand on a tie, torch its 1st: -0.0)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga, gb = _tie_split(grad, a, b, a < b, a > b)
        return (ga if ctx.needs_input_grad[0] else None, gb if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        with _quiet():
            return _tie_split_graph(ctx, grad, a, b, a < b, a > b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(b, a)  # (see Maximum)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga, gb = _tie_split(grad, a, b, a > b, a < b)
        return (ga if ctx.needs_input_grad[0] else None, gb if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = ctx.saved_tensors
        with _quiet():
            return _tie_split_graph(ctx, grad, a, b, a > b, a < b)


class Where(Function):
    """``where(cond, a, b)``; ``cond`` is a bool array and gets no gradient."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = _zero(grad)
        return (None,
                np.where(cond, grad, zero) if ctx.needs_input_grad[1] else None,
                np.where(cond, zero, grad) if ctx.needs_input_grad[2] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        (cond,) = ctx.saved_tensors
        return (None,
                _kept(ctx, cond, grad) if ctx.needs_input_grad[1] else None,
                _masked(ctx, cond, grad) if ctx.needs_input_grad[2] else None)


class MaskedFill(Where):
    """``masked_fill(mask, value)`` as ``where(mask, value, input)``, with torch's node names."""

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch: masked_fill(Scalar) / (Tensor)
        return "MaskedFillBackward1" if is_tensor[1] else "MaskedFillBackward0"


class Clamp(Function):
    """``clamp(a, lo, hi)`` = ``min(max(a, lo), hi)``; ``lo``/``hi`` are arrays (a scalar bound
    arrives 0-d) or None. PyTorch's gradients: ``a`` gets it where lo <= a <= hi (so 0 at NaN,
    and at a bound it goes to ``a``); ``lo`` where a < lo < hi; ``hi`` where a > hi or hi < lo."""

    @staticmethod
    def name_for(is_tensor, arrays, static):  # PyTorch: clamp(Tensor bounds) / clamp(Scalars)
        return "ClampBackward0" if is_tensor[1] or is_tensor[2] else "ClampBackward1"

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a, lo, hi)
        out = a
        with _quiet():
            # (bound first: on a tie numpy returns its 2nd operand and torch keeps a: -0.0)
            if lo is not None:
                out = np.maximum(lo, out)
            if hi is not None:
                out = np.minimum(hi, out)
        # NaN in a stays NaN (np.maximum propagates it); copy when neither bound applied.
        return out if out is not a else a.copy()

    @staticmethod
    def backward(ctx, grad):
        keep, below, above = _clamp_masks(ctx)
        zero = _zero(grad)
        return (np.where(keep, grad, zero) if keep is not None else None,
                np.where(below, grad, zero) if below is not None else None,
                np.where(above, grad, zero) if above is not None else None)

    @staticmethod
    def backward_graph(ctx, grad):
        masks = _clamp_masks(ctx)
        return tuple(_kept(ctx, m, grad) if m is not None else None for m in masks)


def _clamp_masks(ctx):
    """Where each of a, lo, hi gets the gradient (None for one whose gradient is not needed)."""
    a, lo, hi = ctx.saved_tensors
    need_a, need_lo, need_hi = ctx.needs_input_grad
    keep = below = above = None
    with _quiet():
        if need_a:
            keep = np.ones(np.shape(a), bool)  # (broadcasts: a bound may have more dims than a)
            if lo is not None:
                keep = keep & (a >= lo)
            if hi is not None:
                keep = keep & (a <= hi)
        if need_lo:
            below = a < lo if hi is None else (a < lo) & (lo < hi)
        if need_hi:
            above = a > hi if lo is None else (a > hi) | (hi < lo)
    return keep, below, above


class Compare(Function):
    """A non-differentiable elementwise op (comparisons, bitwise ops): ``op(a, b)`` for a numpy
    ufunc ``op``; its bool or integer result never requires grad."""

    @staticmethod
    def forward(ctx, a, b, *, op):
        return np.asarray(op(a, b))

    @staticmethod
    def backward(ctx, grad):
        return None, None
