"""Reductions, each declared once (``_registry``); the Functions live in ``ops/reduce.py``."""
import numpy as np

from ._registry import declare
from ._tensor_math import _reduce_dims
from .ops import reduce as R

__all__ = ["sum"]


@declare()
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001,A002 - PyTorch's names
    """The sum over ``dim`` (None: all); bool and integer tensors sum in int64 unless ``dtype``."""
    t = input.type(dtype) if dtype is not None else input
    if dtype is None and t._data.dtype.kind in "biu":
        t = t.type(np.int64)
    t, dims, keepdim = _reduce_dims(t, dim, keepdim)
    return R.Sum.apply(t, dim=dims, keepdim=keepdim)
