"""Tensor shape operations and indexing (a mixin of ``Tensor``)."""
import numpy as np

from .autograd.grad_mode import is_grad_enabled
from .ops import shape as S

__all__ = ["TensorShape"]

Tensor = None  # the Tensor class, set by minitorch.tensor (which builds it from this mixin)


class TensorShape:
    __slots__ = ()

    def reshape(self, *shape):
        shape = _shape_args(shape)
        try:
            _check_reshape(self.shape, shape)
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        return S.Reshape.apply(self, shape=shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = tuple(_dim(d, self.ndim) for d in _shape_args(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of {self.ndim} dims")
        return S.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        d0, d1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return S.Permute.apply(self, dims=tuple(dims))

    def t(self):
        return self.transpose(0, 1) if self.ndim == 2 else self

    def unsqueeze(self, dim):
        return S.Unsqueeze.apply(self, dim=_dim(dim, self.ndim + 1))

    def squeeze(self, dim=None):
        dim = None if dim is None else tuple(_dim(d, self.ndim) for d in _as_tuple(dim))
        return S.Squeeze.apply(self, dim=dim)

    def expand(self, *sizes):
        sizes = _shape_args(sizes)
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise RuntimeError(f"expand: the shape {self.shape} cannot be expanded to "
                               f"{tuple(sizes)}") from None
        return S.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, key):
        key = _index_key(key)
        fn = S.Index if _is_advanced(key) else S.Slice
        return fn.apply(self, key=key)

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        if is_grad_enabled() and (self.requires_grad or
                                  isinstance(value, Tensor) and value.requires_grad):
            raise RuntimeError("item assignment on a tensor that is part of the autograd graph is "
                               "not supported; use torch.where or build a new tensor")
        self._data[_index_key(key)] = value._data if isinstance(value, Tensor) else value
        self._bump_version()


def _dim(d, ndim):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return d % n

def _as_tuple(d):
    return tuple(d) if isinstance(d, (tuple, list)) else (d,)

def _dims(dim, ndim):
    if dim is None:
        return None
    dims = tuple(_dim(d, ndim) for d in _as_tuple(dim))
    return dims[0] if len(dims) == 1 else dims

def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)

def _check_reshape(old, new):
    size = int(np.prod(old))
    known = int(np.prod([s for s in new if s != -1]))
    if new.count(-1) > 1:
        raise ValueError("only one dimension can be inferred")
    if (-1 in new and (known == 0 or size % known)) or (-1 not in new and known != size):
        raise ValueError(f"shape '{list(new)}' is invalid for input of size {size}")

def _index_key(key):
    """Turn Tensors inside an index into arrays (and lists into integer arrays)."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        return key._data
    if isinstance(key, list):
        return np.asarray(key)
    return key

def _is_advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, np.ndarray) for k in keys)
