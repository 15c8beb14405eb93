"""``index_add``, ``index_copy`` and ``index_fill`` (and their in-place forms, the usual way
to call them): the 1-d ``index`` along ``dim`` spread over the other dims, then the scatter
ops, so their gradients are the scatters' own."""
import numpy as np

from ._registry import declare
from ._tensor_shape import _dim

__all__ = ["index_add", "index_copy", "index_fill"]


def _check_index(name, index):
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise IndexError(f"{name}(): Expected dtype int64 for index")


def _spread(name, input, dim, index, like_shape):
    """``index`` (1-d) as a scatter index of shape ``like_shape``: ``index[i]`` at position i
    of ``dim``, the same for every other position."""
    _check_index(name, index)
    d = _dim(dim, max(input.ndim, 1))
    view = [1] * len(like_shape)
    view[d] = -1
    return d, index.reshape(*view).expand(*like_shape)


@declare(inplace=True)
def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002 - PyTorch's names
    """``input`` with ``alpha * source[.., i, ..]`` added at ``index[i]`` along ``dim``
    (repeated indices add up)."""
    d, spread = _spread("index_add", input, dim, index, tuple(source.shape))
    return input.scatter_add(d, spread, source if alpha == 1 else source * alpha)


@declare(inplace=True)
def index_copy(input, dim, index, source):  # noqa: A002
    """``input`` with ``source[.., i, ..]`` written at ``index[i]`` along ``dim``."""
    d, spread = _spread("index_copy", input, dim, index, tuple(source.shape))
    return input.scatter(d, spread, source)


@declare(inplace=True)
def index_fill(input, dim, index, value):  # noqa: A002
    """``input`` with the slices ``index`` along ``dim`` set to ``value``."""
    _check_index("index_fill", index)
    d = _dim(dim, max(input.ndim, 1))
    mask = np.zeros(input.shape[d] if input.ndim else 1, bool)
    mask[index._data.reshape(-1)] = True
    view = [1] * input.ndim
    if input.ndim:
        view[d] = -1
    return input.masked_fill(input._new(mask.reshape(view) if input.ndim else mask[0]), value)
