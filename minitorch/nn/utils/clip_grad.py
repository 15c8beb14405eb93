"""Gradient clipping with ``torch.nn.utils``' names and numbers: ``clip_grad_norm_`` (with its
halves ``get_total_norm`` and ``clip_grads_with_norm_``) and ``clip_grad_value_``.

Gradients are scaled in place, in their own storage and dtype (views of a ``.grad`` see it).
Norms are reduced by numpy in float64 and rounded to the gradients' dtype, so a float32 total
norm is within an ulp of PyTorch's float32 reduction; float64 ones agree to rounding.
"""
import math
import numbers

import numpy as np

from minitorch.autograd.grad_mode import no_grad
from minitorch.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _grads(parameters) -> list:
    """The non-None ``.grad`` tensors of a Tensor or an iterable of them (PyTorch skips None)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _tensors(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    return [t for t in tensors if t is not None]


def _norm_type(norm_type) -> float:
    try:
        value = float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type must be a number or 'inf', got {norm_type!r}") from None
    if math.isnan(value):
        raise ValueError("norm_type must be a number or 'inf', got nan")
    return value


def _vector_norm(arr: np.ndarray, p: float) -> float:
    """``torch.linalg.vector_norm(arr, p)`` as a Python float (reduced in float64)."""
    a = np.abs(np.asarray(arr, dtype=np.float64).reshape(-1))
    if a.size == 0:
        return 0.0
    if p == math.inf:
        return float(a.max())
    if p == -math.inf:
        return float(a.min())
    if p == 0:
        return float(np.count_nonzero(a))
    if p == 1:
        return float(a.sum())
    if p == 2:
        return float(np.sqrt(np.dot(a, a)))
    return float(np.sum(a ** p) ** (1.0 / p))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of the norms of ``tensors`` (as if all were one vector): a 0-d
    Tensor in their promoted float dtype (float32 for none). ``foreach`` is accepted and
    ignored. With ``error_if_nonfinite`` a NaN or infinite total is a RuntimeError."""
    p = _norm_type(norm_type)
    tensors = _tensors(tensors)
    if not tensors:
        return Tensor._new(np.array(0.0, dtype=np.float32))
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    if dtype.kind != "f":
        raise TypeError(f"get_total_norm needs floating point tensors, got {dtype}")
    norms = np.array([_vector_norm(t._data, p) for t in tensors], dtype=dtype)
    total = dtype.type(_vector_norm(norms, p))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is "
                           f"non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    return Tensor._new(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm +
    1e-6))`` (always multiplied, as PyTorch does, even by 1)."""
    max_norm = _max_norm(max_norm)
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    total = np.asarray(total, dtype=total.dtype if total.dtype.kind == "f" else np.float32)
    coef = total.dtype.type(max_norm) / (total + total.dtype.type(1e-6))
    coef = min(coef, total.dtype.type(1.0)) if np.isfinite(coef) else coef
    with no_grad():
        for g in grads:
            _scale_(g, g._data.dtype.type(coef))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Clip the gradients of ``parameters`` (a Tensor or an iterable, e.g.
    ``model.parameters()``) so that their total ``norm_type``-norm is at most ``max_norm``;
    return the total norm before clipping as a 0-d Tensor. ``norm_type`` may be ``inf``."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)  # a generator is read twice below
    max_norm = _max_norm(max_norm)
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    if grads:
        clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``."""
    if (isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real)
            or math.isnan(clip_value)):
        raise ValueError(f"clip_value must be a number, got {clip_value!r}")
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            arr = _writeable(g)
            np.clip(arr, -clip_value, clip_value, out=arr)
            g._bump_version()


def _max_norm(max_norm) -> float:
    """A real ``max_norm`` >= 0 (PyTorch does not check; a negative one would flip the
    gradients' sign, which is never meant)."""
    if isinstance(max_norm, Tensor):
        max_norm = max_norm.item()
    if (isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real)
            or not max_norm >= 0):
        raise ValueError(f"max_norm must be a number >= 0, got {max_norm!r}")
    return float(max_norm)


def _writeable(g: Tensor) -> np.ndarray:
    arr = g._data
    if not arr.flags.writeable:  # e.g. a broadcast view: give the grad its own storage
        arr = g._data = np.array(arr)
    return arr


def _scale_(g: Tensor, coef) -> None:
    arr = _writeable(g)
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, as in PyTorch
        np.multiply(arr, coef, out=arr)
    g._bump_version()
