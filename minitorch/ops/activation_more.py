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


class LeakyReLU(_Pointwise):
    node_name = "LeakyReluBackward0"

    @staticmethod
    def _f(x, negative_slope):
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def _df(x, negative_slope):
        return np.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))


class ELU(_Pointwise):
    node_name = "EluBackward0"

    @staticmethod
    def _f(x, alpha):
        return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def _df(x, alpha):
        # (x <= 0, not x > 0: a NaN takes the linear branch's gradient, as in PyTorch)
        return np.where(x <= 0, x.dtype.type(alpha) * np.exp(np.minimum(x, 0)), x.dtype.type(1))


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


class SiLU(_Pointwise):
    node_name = "SiluBackward0"

    @staticmethod
    def _f(x):
        return x * _sigmoid(x)

    @staticmethod
    def _df(x):
        s = _sigmoid(x)
        return s * (1 + x * (1 - s))


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


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))
