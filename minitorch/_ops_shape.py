"""The function forms of shape ops (``mt.cat``, ``mt.stack``, ``mt.reshape``, ...) and
``mt.where``, each declared once (``_registry``). The methods and the view machinery stay in
``_tensor_shape.py``; the Functions in ``ops/shape.py``.
"""
import numpy as np

from . import _promotion as P
from ._op_args import _check_broadcast, _promote_many
from ._registry import declare
from ._tensor_shape import _dim
from .autograd.variable import TensorBase
from .ops import elementwise as E
from .ops import shape as S

__all__ = ["where", "cat", "stack", "flatten", "reshape", "transpose", "permute", "squeeze",
           "unsqueeze"]


@declare(method=False)
def where(condition, input, other):  # noqa: A002 - PyTorch's names
    """``input`` where ``condition`` is True, else ``other`` (numbers allowed, broadcast)."""
    if condition._data.dtype != np.bool_:
        raise TypeError(f"where expected condition to be a bool tensor, got {condition.dtype}")
    # Promotion over input and other only (PyTorch's): where(c, 1., 0.) is float32.
    a, b = _promote_many("where", input, other, checked=True)
    _check_broadcast("where", condition, a, b)
    return E.Where.apply(condition, a, b)


def _same_dtype(tensors, what):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{what}() expects a non-empty list of tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, TensorBase):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    dt = P.result_type(*[x._data for x in tensors])
    return [x if x._data.dtype == dt else x.type(dt) for x in tensors]


@declare(method=False, function=("cat", "concatenate", "concat"), sequence_input=True)
def cat(tensors, dim=0):
    """Join tensors along an existing ``dim`` (promoted to one dtype)."""
    tensors = _same_dtype(tensors, "cat")
    d = _dim(dim, tensors[0].ndim)
    ref = tensors[0].shape
    for i, x in enumerate(tensors):
        if x.ndim != len(ref) or x.shape[:d] + x.shape[d + 1:] != ref[:d] + ref[d + 1:]:
            raise ValueError(f"cat: sizes of tensors must match except in dimension {d}: tensor 0 "
                             f"has shape {tuple(ref)}, tensor {i} has shape {tuple(x.shape)}")
    return S.Cat.apply(*tensors, dim=d)


@declare(method=False, sequence_input=True)
def stack(tensors, dim=0):
    """Join equal-shaped tensors along a new ``dim``."""
    tensors = _same_dtype(tensors, "stack")
    for i, x in enumerate(tensors):
        if x.shape != tensors[0].shape:
            raise ValueError(f"stack expects each tensor to be equal size, but got "
                             f"{list(tensors[0].shape)} at entry 0 and {list(x.shape)} at entry "
                             f"{i}")
    return S.Stack.apply(*tensors, dim=_dim(dim, tensors[0].ndim + 1))


# The views: the function is the method (which holds the checks), as in torch.
@declare(method=False, out=False)
def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    return input.flatten(start_dim, end_dim)


@declare(method=False, out=False)
def reshape(input, shape):  # noqa: A002
    return input.reshape(shape)


@declare(method=False, out=False)
def transpose(input, dim0, dim1):  # noqa: A002
    return input.transpose(dim0, dim1)


@declare(method=False, out=False)
def permute(input, dims):  # noqa: A002
    return input.permute(dims)


@declare(method=False, out=False)
def squeeze(input, dim=None):  # noqa: A002
    return input.squeeze(dim)


@declare(method=False, out=False)
def unsqueeze(input, dim):  # noqa: A002
    return input.unsqueeze(dim)
