"""Ops composed of other ops (``lerp``, ``addcmul``, ``logaddexp``, ``nansum``, ``hstack``,
``meshgrid`` ...): each declared once (``_registry``), its gradient the recorded ops' own, so
it differentiates to any order. Written in the formula torch's kernels use where the rounding
depends on it (``lerp``'s two branches, ``addcdiv``'s quotient first)."""
import warnings

import numpy as np

from . import _promotion as P
from ._registry import _TYPE, declare
from ._tensor_shape import _dim
from .autograd.variable import TensorBase

__all__ = ["lerp", "addcmul", "addcdiv", "clamp_min", "clamp_max", "hypot", "logaddexp",
           "logaddexp2", "xlogy", "deg2rad", "rad2deg", "logit", "nansum", "nanmean",
           "count_nonzero", "isclose", "nan_to_num", "trace", "diff", "std_mean", "var_mean",
           "ravel", "swapaxes", "clone", "t", "broadcast_to", "broadcast_tensors", "hstack",
           "vstack", "meshgrid"]


def _mt():
    import minitorch  # (the top-level functions: this module loads while minitorch does)
    return minitorch


def _check_floating(name, *tensors):
    """torch's kernel error when the tensors promote to an integer or bool dtype."""
    arrays = [x._data for x in tensors if isinstance(x, TensorBase)]
    dtype = P.result_type(*arrays)
    if np.dtype(dtype).kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{_TYPE.get(str(np.dtype(dtype)), dtype)}'")


# ----------------------------------------------------------------------------- arithmetic
@declare(inplace=True)
def lerp(input, end, weight):  # noqa: A002 - PyTorch's names
    """``input + weight * (end - input)``, as torch's kernel: from ``end`` when weight >= 0.5."""
    _check_floating("lerp", input)
    if end._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    diff = end - input
    if not isinstance(weight, TensorBase):
        return input + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)
    return _mt().where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))


@declare(inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """``input + value * tensor1 * tensor2``."""
    return input + value * tensor1 * tensor2


@declare(inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """``input + value * (tensor1 / tensor2)``; integer tensors are refused, as in torch."""
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float "
                           "inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    return input + value * (tensor1 / tensor2)


@declare(inplace=True)
def clamp_min(input, min):  # noqa: A002
    return input.clamp(min=min)


@declare(inplace=True)
def clamp_max(input, max):  # noqa: A002
    return input.clamp(max=max)


@declare(inplace=True)
def hypot(input, other):  # noqa: A002
    """``sqrt(input ** 2 + other ** 2)`` (floating-point tensors, as torch's)."""
    _check_floating("hypot", input, other)
    return (input * input + other * other).sqrt()


@declare()
def logaddexp(input, other):  # noqa: A002
    """``log(exp(input) + exp(other))`` without overflow."""
    _check_floating("logaddexp", input, other)
    big = _mt().maximum(input, other)
    return big + (-(input - other).abs()).exp().log1p()


@declare()
def logaddexp2(input, other):  # noqa: A002
    """``log2(2 ** input + 2 ** other)`` without overflow."""
    _check_floating("logaddexp2", input, other)
    big = _mt().maximum(input, other)
    return big + (-(input - other).abs()).exp2().log1p() / np.log(2.0)


@declare(inplace=True)
def xlogy(input, other):  # noqa: A002
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    mt = _mt()
    if not isinstance(other, TensorBase):
        other = mt.tensor(other, dtype=mt.get_default_dtype())
    x, y = input.float() if input._data.dtype.kind in "biu" else input, other
    if y._data.dtype.kind in "biu":
        y = y.to(x.dtype if x._data.dtype.kind == "f" else mt.get_default_dtype())
    zero = (x == 0) & ~y.isnan()
    return mt.where(zero, mt.zeros((), dtype=P.result_type(x._data, y._data)), x * y.log())


@declare(inplace=True)
def deg2rad(input):  # noqa: A002
    return (input.float() if input._data.dtype.kind in "biu" else input) * (np.pi / 180)


@declare(inplace=True)
def rad2deg(input):  # noqa: A002
    return (input.float() if input._data.dtype.kind in "biu" else input) * (180 / np.pi)


@declare(inplace=True)
def logit(input, eps=None):  # noqa: A002
    """``log(p / (1 - p))``, ``p`` clamped to [eps, 1 - eps] when ``eps`` is given."""
    p = input.float() if input._data.dtype.kind in "biu" else input
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return (p / (1 - p)).log()


# ----------------------------------------------------------------------------- reductions
def _no_nan(input):
    return _mt().where(input.isnan(), _mt().zeros((), dtype=input.dtype), input)


@declare()
def nansum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """``sum`` with NaN counted as 0."""
    x = _no_nan(input) if input._data.dtype.kind == "f" else input
    return x.sum(dim, keepdim, dtype=dtype) if dim is not None else x.sum(dtype=dtype)


@declare()
def nanmean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """``mean`` over the elements that are not NaN."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype}")
    count = (~input.isnan()).sum(dim, keepdim) if dim is not None else (~input.isnan()).sum()
    return nansum(input, dim, keepdim, dtype=dtype) / count


@declare()
def count_nonzero(input, dim=None):  # noqa: A002
    """The number of nonzero elements (over ``dim``, an int or a tuple)."""
    nonzero = input != 0
    return nonzero.sum() if dim is None else nonzero.sum(dim)


@declare()
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """``|input - other| <= atol + rtol * |other|``, elementwise (equal infinities too)."""
    a, b = input._data.dtype, other._data.dtype
    if a != b:   # torch's own words: "Long did not match Float"
        raise RuntimeError(f"{_TYPE.get(str(a), a)} did not match {_TYPE.get(str(b), b)}")
    a, b = input._data, other._data
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return _mt().tensor(np.asarray(close))


@declare(inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """NaN, +inf and -inf replaced (by default: 0 and the dtype's largest and lowest)."""
    if input._data.dtype.kind != "f":
        return input.clone()
    info = np.finfo(input._data.dtype)
    mt = _mt()
    out = input
    for test, value in ((input.isnan(), nan),
                        (input == float("inf"), info.max if posinf is None else posinf),
                        (input == float("-inf"), info.min if neginf is None else neginf)):
        out = mt.where(test, mt.tensor(value, dtype=input.dtype), out)
    return out


@declare()
def trace(input):  # noqa: A002
    """The sum of a matrix's diagonal."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return input.diagonal().sum()


@declare()
def diff(input, n=1, dim=-1, prepend=None, append=None):  # noqa: A002
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
    d = _dim(dim, input.ndim)
    mt = _mt()
    x = mt.cat([t for t in (prepend, input, append) if t is not None], d) \
        if prepend is not None or append is not None else input
    for _ in range(n):
        length = x.shape[d]
        x = x.narrow(d, 1, length - 1) - x.narrow(d, 0, length - 1) \
            if x._data.dtype != np.bool_ else \
            x.narrow(d, 1, length - 1) ^ x.narrow(d, 0, length - 1)
    return x


@declare()
def std_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):  # noqa: A002
    """``(std, mean)`` over ``dim``."""
    return (input.std(dim, unbiased, keepdim, correction=correction),
            input.mean() if dim is None else input.mean(dim, keepdim))


@declare()
def var_mean(input, dim=None, unbiased=True, keepdim=False, *, correction=None):  # noqa: A002
    """``(var, mean)`` over ``dim``."""
    return (input.var(dim, unbiased, keepdim, correction=correction),
            input.mean() if dim is None else input.mean(dim, keepdim))


# ----------------------------------------------------------------------------- shapes
@declare(out=False)
def ravel(input):  # noqa: A002
    """``input`` as one dimension (a view when it can be)."""
    return input.reshape(-1)


@declare(function=("swapaxes", "swapdims"), method=("swapaxes", "swapdims"), out=False)
def swapaxes(input, axis0, axis1):  # noqa: A002
    return input.transpose(axis0, axis1)


@declare(method=False)
def clone(input):  # noqa: A002
    return input.clone()


@declare(method=False, out=False)
def t(input):  # noqa: A002
    return input.t()


@declare(method=False, out=False)
def broadcast_to(input, size):  # noqa: A002
    return input.expand(*size)


@declare(method=False, out=False, sequence_input=True)
def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape."""
    shape = np.broadcast_shapes(*[tuple(x.shape) for x in tensors])
    return tuple(x.expand(*shape) for x in tensors)


@declare(method=False, sequence_input=True)
def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-d tensors)."""
    tensors = [x.reshape(1) if x.ndim == 0 else x for x in tensors]
    return _mt().cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@declare(method=False, function=("vstack", "row_stack"), sequence_input=True)
def vstack(tensors):
    """Join along dim 0, 0-d and 1-d tensors made rows first."""
    return _mt().cat([x.reshape(1, -1) if x.ndim < 2 else x for x in tensors], 0)


@declare(method=False, out=False, sequence_input=True)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 1-d tensors, ``indexing='ij'`` (torch's default) or ``'xy'``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=3)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for x in tensors:
        if x.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {x.ndim}D")
    flat = [x.reshape(-1) for x in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = [x.shape[0] for x in flat]
    grids = []
    for i, x in enumerate(flat):
        view = [1] * len(flat)
        view[i] = -1
        grids.append(x.reshape(*view).expand(*shape))
    if swap:   # 'xy': the first two inputs' grids in the first two dims, swapped
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
