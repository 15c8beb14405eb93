"""The pointwise activations beyond ReLU: GELU (numba kernel), LeakyReLU, ELU, Softplus, SiLU
and Hardtanh (numpy, one expression each way).

Each forward saves only its input and each backward recomputes the derivative from it, so a
frozen part of a network (no gradient needed) keeps nothing. Derivatives at the kinks are
PyTorch's: LeakyReLU and ELU take the negative branch at 0, Hardtanh passes no gradient at
either bound.
"""
import numpy as np

from ..autograd.function import Function
from ..kernels import gelu as K
from .elementwise import Where

__all__ = ["GELU", "LeakyReLU", "LeakyReLUInplace", "ELU", "ELUInplace", "Softplus", "SiLU", "Hardtanh"]


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


class _Pointwise(Function):
    """``forward`` = ``_f(x, **static)``; ``backward`` = ``grad * _df(x, **static)``."""

    integers = False  # whether an integer input is allowed (Hardtanh: a clamp)
    # staticmethod(ctx, x Tensor, **static): f''(x) in recorded ops; None: piecewise linear
    _d2f_graph = None

    @classmethod
    def forward(cls, ctx, x, **static):
        if x.dtype.kind != "f" and not (cls.integers and x.dtype.kind in "iu"):
            raise NotImplementedError(f"{cls.__name__.lower()}: not implemented for dtype "
                                      f"{x.dtype} (expected a floating-point input)")
        ctx.save_for_backward(x)
        ctx.static = static
        return np.asarray(cls._f(x, **static), dtype=x.dtype)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        return np.asarray(grad * cls._df(x, **ctx.static), dtype=x.dtype)

    @classmethod
    def backward_graph(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Derivative.apply(ctx.saved_input(0, x), activation=cls, **ctx.static)


class Derivative(Function):
    """``f'(x)`` of a pointwise activation ``f`` as an op of its own, so that the activation's
    gradient (``grad * f'(x)``) can be differentiated again: its backward is ``grad * f''(x)``
    (``activation._d2f``). Under create_graph ``f''`` is ``activation._d2f_graph`` in recorded
    Tensor ops (so third and higher orders follow); an activation without one is piecewise
    linear, and gets torch's ``zeros_like``: a constant, so the second derivative of e.g.
    leaky_relu does not require grad, while the first still does through ``x``, as in torch."""

    @staticmethod
    def name_for(is_tensor, arrays, static):
        return static["activation"].node_name.replace("Backward0", "Backward1")

    @staticmethod
    def forward(ctx, x, *, activation, **static):
        ctx.save_for_backward(x)
        ctx.activation, ctx.static = activation, static
        out = np.empty_like(x)  # (a derivative may come back as one scalar: constant slope)
        out[...] = activation._df(x, **static)
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.asarray(grad * ctx.activation._d2f(x, **ctx.static), dtype=x.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = ctx.saved_tensors
        d2f = ctx.activation._d2f_graph
        if d2f is None:
            return ctx.constant(np.zeros(x.shape, x.dtype))
        return grad * d2f(ctx, ctx.saved_input(0, x), **ctx.static)


class _Masked(_Pointwise):
    """Zero gradient where ``_dead(x)``, by selection as torch does (so an infinite or NaN
    incoming gradient there still gives 0), ``grad * _df(x)`` elsewhere."""

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        live = grad * cls._df(x, **ctx.static)
        return np.asarray(np.where(cls._dead(x, **ctx.static), x.dtype.type(0), live), x.dtype)

    @classmethod
    def backward_graph(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        live = grad * Derivative.apply(ctx.saved_input(0, x), activation=cls, **ctx.static)
        return Where.apply(ctx.constant(cls._dead(x, **ctx.static)),
                           ctx.constant(np.zeros((), x.dtype)), live)

    @staticmethod
    def _df(x, **static):
        return x.dtype.type(1)

    @staticmethod
    def _d2f(x, **static):  # piecewise linear, unless a subclass says otherwise
        return x.dtype.type(0)


class GELU(Function):
    node_name = "GeluBackward0"

    @staticmethod
    def forward(ctx, x, *, tanh):
        if x.dtype.kind != "f":
            raise NotImplementedError(f"gelu: not implemented for dtype {x.dtype}")
        flat = _flat(x)
        out = np.empty_like(flat)
        K.gelu_forward(out, flat, int(tanh))
        ctx.save_for_backward(x)
        ctx.tanh = int(tanh)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        g = _flat(grad)
        grad_x = np.empty_like(g)
        K.gelu_backward(grad_x, g, _flat(x), ctx.tanh)
        return grad_x.reshape(x.shape)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * Derivative.apply(ctx.saved_input(0, x), activation=GELU, tanh=ctx.tanh)

    @staticmethod
    def _df(x, tanh):
        flat = _flat(x)
        out = np.empty_like(flat)
        K.gelu_backward(out, np.ones_like(flat), flat, int(tanh))
        return out.reshape(x.shape)

    @staticmethod
    def _d2f(x, tanh):
        with np.errstate(over="ignore", invalid="ignore"):
            if not tanh:   # (2 - x^2) * phi(x)
                return (2 - x * x) * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi).astype(x.dtype)
            k, a = np.sqrt(2 / np.pi), 0.044715
            t = np.tanh(k * (x + a * x ** 3))
            du = k * (1 + 3 * a * x * x)
            return ((1 - t * t) * (du + 0.5 * x * (6 * k * a * x - 2 * t * du * du))).astype(x.dtype)

    @staticmethod
    def _d2f_graph(ctx, x, tanh):
        if not tanh:
            return (2 - x * x) * (x * x * -0.5).exp() * float(1 / np.sqrt(2 * np.pi))
        k, a = float(np.sqrt(2 / np.pi)), 0.044715
        t = ((x + x * x * x * a) * k).tanh()
        du = (x * x * (3 * a) + 1) * k
        return (1 - t * t) * (du + x * 0.5 * (x * (6 * k * a) - t * du * du * 2))


class LeakyReLU(_Pointwise):
    node_name = "LeakyReluBackward0"

    @staticmethod
    def _f(x, negative_slope):
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def _df(x, negative_slope):
        return np.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))

    @staticmethod
    def _d2f(x, negative_slope):
        return np.zeros_like(x)


class _FromResult:
    """An in-place activation that torch differentiates through its result (``f'`` read from
    it): the result is saved, not the input, so changing it in place again fails the backward
    as in torch, and a negative slope, where the result does not tell the branch, is refused
    there with torch's message (``_refusal`` names the op, ``_refusal_end`` ends the message;
    the slope is the static ``_slope``)."""

    _slope = _refusal = None
    _refusal_end = ""

    @classmethod
    def forward(cls, ctx, x, **static):
        out = super().forward(ctx, x, **static)
        ctx.save_for_backward(out)
        ctx.result = out
        return out

    @classmethod
    def _check(cls, ctx):
        if ctx.static[cls._slope] < 0:
            raise RuntimeError(f"In-place {cls._refusal} backward calculation is triggered with "
                               f"a negative slope which is not supported. This is caused by "
                               f"calling in-place forward function with a negative slope, please "
                               f"call out-of-place version instead.{cls._refusal_end}")


class LeakyReLUInplace(_FromResult, LeakyReLU):
    """``leaky_relu_``: the slope is read from the result's sign, so under create_graph the
    second derivative's zero flows back into this node, and comes out requiring grad, where the
    out-of-place form's is a constant."""

    node_name = "LeakyReluBackward1"
    _slope, _refusal = "negative_slope", "leakyReLu"
    _refusal_end = (" File an issue at https://github.com/pytorch/pytorch if you do require "
                    "supporting in-place leakRelu backward calculation with negative slope")

    @classmethod
    def backward(cls, ctx, grad):
        cls._check(ctx)
        return super().backward(ctx, grad)

    @classmethod
    def backward_graph(cls, ctx, grad):
        cls._check(ctx)
        return grad * Derivative.apply(ctx.saved_output(ctx.result), activation=LeakyReLU,
                                       **ctx.static)


class ELU(_Pointwise):
    node_name = "EluBackward0"

    @staticmethod
    def _f(x, alpha):
        return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def _df(x, alpha):
        # (x <= 0, not x > 0: a NaN takes the linear branch's gradient, as in PyTorch)
        return np.where(x <= 0, x.dtype.type(alpha) * np.exp(np.minimum(x, 0)), x.dtype.type(1))

    @staticmethod
    def _d2f(x, alpha):
        # (x < 0: at 0 itself torch's second derivative is 0, though its first takes alpha)
        return np.where(x < 0, x.dtype.type(alpha) * np.exp(np.minimum(x, 0)), x.dtype.type(0))

    @staticmethod
    def _d2f_graph(ctx, x, alpha):
        return x.clamp(max=0).exp() * alpha * negative_mask(ctx, x)


class ELUInplace(_FromResult, ELU):
    """``elu_``: ``f'`` is ``result + alpha`` where ``result <= 0``, 1 elsewhere."""

    node_name = "EluBackward1"
    _slope, _refusal = "alpha", "elu"

    @classmethod
    def backward(cls, ctx, grad):
        cls._check(ctx)
        (result,) = ctx.saved_tensors
        slope = result + result.dtype.type(ctx.static["alpha"])
        return np.where(result <= 0, grad * slope, grad).astype(result.dtype, copy=False)

    @classmethod
    def backward_graph(cls, ctx, grad):
        cls._check(ctx)
        alpha = ctx.static["alpha"]
        (result,) = ctx.saved_tensors
        r = ctx.saved_output(result)
        slope = np.where(result <= 0, result + result.dtype.type(alpha), result.dtype.type(1))
        # f'(r) with r recorded where r < 0 (torch's double backward masks r < 0, though f'
        # takes the exponential branch at 0 too), so its derivative reaches this node
        return grad * (r + alpha).where(ctx.constant(result < 0), ctx.constant(slope))


class Softplus(_Pointwise):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold`` (as PyTorch)."""
    node_name = "SoftplusBackward0"

    @staticmethod
    def _f(x, beta, threshold):
        bx = x * x.dtype.type(beta)
        soft = np.logaddexp(bx, 0) / x.dtype.type(beta)
        return np.where(bx > threshold, x, soft)

    @staticmethod
    def _df(x, beta, threshold):
        bx = x * x.dtype.type(beta)
        sig = np.exp(-np.logaddexp(-bx, 0))  # sigmoid(bx), no overflow
        return np.where(bx > threshold, x.dtype.type(1), sig)

    @staticmethod
    def _d2f(x, beta, threshold):
        bx = x * x.dtype.type(beta)
        sig = np.exp(-np.logaddexp(-bx, 0))
        return np.where(bx > threshold, x.dtype.type(0), x.dtype.type(beta) * sig * (1 - sig))

    @staticmethod
    def _d2f_graph(ctx, x, beta, threshold):
        sig = (x * beta).sigmoid()
        soft = ctx.constant((x._data * x._data.dtype.type(beta) <= threshold).astype(x._data.dtype))
        return sig * (1 - sig) * beta * soft


class SiLU(_Pointwise):
    node_name = "SiluBackward0"

    @staticmethod
    def _f(x):
        return x * _sigmoid(x)

    @staticmethod
    def _df(x):
        s = _sigmoid(x)
        return s * (1 + x * (1 - s))

    @staticmethod
    def _d2f(x):
        s = _sigmoid(x)
        return s * (1 - s) * (2 + x * (1 - 2 * s))

    @staticmethod
    def _d2f_graph(ctx, x):
        s = x.sigmoid()
        return s * (1 - s) * (2 + x * (1 - 2 * s))


class Hardtanh(_Masked):
    node_name = "HardtanhBackward0"
    integers = True

    @staticmethod
    def _f(x, min_val, max_val):
        # NaN passes through, as in PyTorch (np.clip would too; kept explicit for clarity)
        return np.clip(x, x.dtype.type(min_val), x.dtype.type(max_val)).astype(x.dtype)

    @staticmethod
    def _dead(x, min_val, max_val):
        # no gradient at or beyond a bound (a NaN passes it, as in PyTorch); selected, as
        # torch does, so an infinite or NaN gradient stops there too
        return (x <= min_val) | (x >= max_val)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def negative_mask(ctx, x):
    """``x < 0`` as a constant of ``x``'s dtype: the exponential branch of the ELUs' second
    derivative (torch multiplies by it too: 0 at 0 itself, though f' takes that branch)."""
    return ctx.constant((x._data < 0).astype(x._data.dtype))
