"""Function forms of tensor operations (``mt.exp(x)``, ``mt.cat([a, b])``, ``mt.where(...)``).

The declared ops (``_registry``) are built here as ``mt.`` functions (``DECLARED``); the rest are
still written out below until they move to a declaration.
"""
import numpy as np

from . import _promotion as P
from . import _registry
from .ops import elementwise as E
from .ops import shape as S
from ._tensor_math import _check_broadcast, _promote_many
from ._tensor_shape import _dim
from .creation import tensor
from .tensor import Tensor

__all__ = ["sqrt", "abs", "tanh", "sigmoid", "relu", "maximum", "minimum", "where",
           "clamp", "cat", "concatenate", "stack", "matmul", "mean", "amax", "amin", "std",
           "var", "max", "min", "argmax", "argmin", "softmax", "log_softmax", "flatten", "reshape",
           "transpose", "permute", "squeeze", "unsqueeze", "allclose", "equal", "is_tensor",
           "numel"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _wrapped_number(x):
    """A Python number given where a tensor is expected (``mt.add(2, t)``): a 0-d tensor that
    promotes as the number would (torch's wrapped numbers)."""
    t = tensor(x)
    t._wrapped_number = True
    return t


DECLARED = _registry.REGISTRY.functions(_wrapped_number)
globals().update(DECLARED)
__all__ += list(DECLARED)


def sqrt(x): return _t(x).sqrt()
def abs(x): return _t(x).abs()  # noqa: A001 - PyTorch's name
def tanh(x): return _t(x).tanh()
def sigmoid(x): return _t(x).sigmoid()
def relu(x): return _t(x).relu()
def maximum(a, b): return _t(a).maximum(b)
def minimum(a, b): return _t(a).minimum(b)
def clamp(x, min=None, max=None): return _t(x).clamp(min, max)  # noqa: A002
def matmul(a, b): return _t(a) @ b
def mean(x, dim=None, keepdim=False): return _t(x).mean(dim, keepdim)
def amax(x, dim=(), keepdim=False): return _t(x).amax(dim, keepdim)
def amin(x, dim=(), keepdim=False): return _t(x).amin(dim, keepdim)
def std(x, dim=None, unbiased=True, keepdim=False, correction=None):
    return _t(x).std(dim, unbiased, keepdim, correction)
def var(x, dim=None, unbiased=True, keepdim=False, correction=None):
    return _t(x).var(dim, unbiased, keepdim, correction)
def max(x, dim=None, keepdim=False): return _t(x).max(dim, keepdim)  # noqa: A001
def min(x, dim=None, keepdim=False): return _t(x).min(dim, keepdim)  # noqa: A001
def argmax(x, dim=None, keepdim=False): return _t(x).argmax(dim, keepdim)
def argmin(x, dim=None, keepdim=False): return _t(x).argmin(dim, keepdim)
def softmax(x, dim): return _t(x).softmax(dim)
def log_softmax(x, dim): return _t(x).log_softmax(dim)
def flatten(x, start_dim=0, end_dim=-1): return _t(x).flatten(start_dim, end_dim)
def reshape(x, shape): return _t(x).reshape(shape)
def transpose(x, dim0, dim1): return _t(x).transpose(dim0, dim1)
def permute(x, dims): return _t(x).permute(dims)
def squeeze(x, dim=None): return _t(x).squeeze(dim)
def unsqueeze(x, dim): return _t(x).unsqueeze(dim)
def is_tensor(x): return isinstance(x, Tensor)
def numel(x): return _t(x).numel()


def where(condition, input, other):  # noqa: A002 - PyTorch's names
    cond = _t(condition)
    if cond._data.dtype != np.bool_:
        raise TypeError(f"where expected condition to be a bool tensor, got {cond.dtype}")
    # Promotion over input and other only (PyTorch's): where(c, 1., 0.) is float32.
    a, b = _promote_many("where", input, other)
    _check_broadcast("where", cond, a, b)
    return E.Where.apply(cond, a, b)


def _same_dtype(tensors, what):
    tensors = [_t(x) for x in tensors]
    if not tensors:
        raise ValueError(f"{what}() expects a non-empty list of tensors")
    dt = P.result_type(*[x._data for x in tensors])
    return [x if x._data.dtype == dt else x.type(dt) for x in tensors]


def cat(tensors, dim=0):
    tensors = _same_dtype(tensors, "cat")
    d = _dim(dim, tensors[0].ndim)
    ref = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.ndim != len(ref) or x.shape[:d] + x.shape[d + 1:] != ref[:d] + ref[d + 1:]:
            raise ValueError(f"cat: sizes of tensors must match except in dimension {d}: tensor 0 "
                             f"has shape {tuple(ref)}, tensor {i} has shape {tuple(x.shape)}")
    return S.Cat.apply(*tensors, dim=d)


concatenate = cat


def stack(tensors, dim=0):
    tensors = _same_dtype(tensors, "stack")
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise ValueError(f"stack expects each tensor to be equal size, but got "
                             f"{list(tensors[0].shape)} at entry 0 and {list(x.shape)} at entry "
                             f"{i}")
    return S.Stack.apply(*tensors, dim=_dim(dim, tensors[0].ndim + 1))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(_t(a)._data, _t(b)._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b) -> bool:
    return _t(a).shape == _t(b).shape and bool(np.array_equal(_t(a)._data, _t(b)._data))
