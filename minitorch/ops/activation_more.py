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

__all__ = ["GELU", "LeakyReLU", "ELU", "Softplus", "SiLU", "Hardtanh"]


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


class _Pointwise(Function):
    """``forward`` = ``_f(x, **static)``; ``backward`` = ``grad * _df(x, **static)``."""

    integers = False  # whether an integer input is allowed (Hardtanh: a clamp)

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
    (``activation._d2f``; 0 for the piecewise-linear ones, whose result still requires grad
    through ``x``, as PyTorch's does)."""

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


class Hardtanh(_Pointwise):
    node_name = "HardtanhBackward0"
    integers = True

    @staticmethod
    def _f(x, min_val, max_val):
        # NaN passes through, as in PyTorch (np.clip would too; kept explicit for clarity)
        return np.clip(x, x.dtype.type(min_val), x.dtype.type(max_val)).astype(x.dtype)

    @staticmethod
    def _df(x, min_val, max_val):
        # zero at or beyond a bound; a NaN passes the gradient, as in PyTorch
        return (~((x <= min_val) | (x >= max_val))).astype(x.dtype)

    @staticmethod
    def _d2f(x, min_val, max_val):
        return np.zeros_like(x)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))
