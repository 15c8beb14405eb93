"""Tensor shape operations and indexing (a mixin of ``Tensor``).

Shape ops and basic indexing return views (sharing storage and version counter) as in PyTorch;
advanced indexing follows PyTorch's dimension order; ``x[key] = v`` is recorded (a view plus
``copy_``, or index_put for an advanced key).
"""
import numbers
import warnings

import numpy as np

from . import _promotion as P
from .autograd import inplace as I
from .autograd.variable import TensorBase
from .ops import inplace as OI
from .ops import shape as S

__all__ = ["TensorShape"]


class TensorShape:
    __slots__ = ()

    def reshape(self, *shape):
        shape = _shape_args(shape)
        try:
            _check_reshape(self.shape, shape)
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        return S.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            return self.type(shape[0])  # view(dtype)
        shape = _shape_args(shape)
        try:
            _check_reshape(self.shape, shape)
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        try:
            np.reshape(self._data, _infer(self.shape, shape), copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.") from None
        return S.Reshape.apply(self, shape=shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        if s == e:
            return self  # PyTorch: nothing to flatten returns the input itself (a leaf stays one)
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        if not dims:
            raise TypeError('permute() missing 1 required positional arguments: "dims"')
        dims = tuple(_dim(d, self.ndim) for d in _shape_args(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of {self.ndim} dims")
        return S.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        d0, d1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        if self.ndim:  # a 0-d tensor accepts dims 0/-1 and stays as it is
            dims[d0], dims[d1] = dims[d1], dims[d0]
        return S.Permute.apply(self, dims=tuple(dims), name="TransposeBackward0")

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        # a 0-d/1-d tensor gets a new view (not itself), as PyTorch: it has a grad_fn
        dims = (1, 0) if self.ndim == 2 else tuple(range(self.ndim))
        return S.Permute.apply(self, dims=dims, name="TBackward0")

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

    @property
    def mT(self):  # noqa: N802 - PyTorch's name
        """The last two dims swapped (a view), for a tensor of 2 or more dims."""
        if self.ndim == 1:  # (torch accepts a 0-d tensor, deprecated)
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1) if self.ndim else self  # 0-d: itself, as torch

    mH = mT  # real tensors only: the conjugate transpose is the transpose

    @property
    def H(self):  # noqa: N802 - PyTorch's name
        """The (conjugate) transpose of a matrix (a 0-d tensor is accepted, as torch)."""
        if self.ndim not in (0, 2):
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self.ndim}-D tensor."
                               + (" For batches of matrices, consider using tensor.mH"
                                  if self.ndim > 2 else ""))
        return self.transpose(0, 1) if self.ndim else self   # (torch's node: TransposeBackward0)

    def __getitem__(self, key):
        basic, advanced = _split_key(_index_key(key), self.ndim)
        t = S.Slice.apply(self, key=basic) if basic is not None else self
        return S.Index.apply(t, key=advanced) if advanced is not None else t

    def __setitem__(self, key, value):
        basic, advanced = _split_key(_index_key(key), self.ndim)
        if not I.recording(self, value):  # nothing to record: write straight into the storage
            target = self._data[basic] if basic is not None else self._data
            # the written-to part is what may not repeat an element (x.expand(2, 4)[1:] is fine);
            # PyTorch allows (deprecated) index_put into an expanded tensor, not a Python-bool key
            fancy = advanced is not None and any(
                isinstance(k, np.ndarray) and k.ndim for k in advanced)
            I.check_writable(self._new(target) if basic is not None else self, "__setitem__",
                             overlap_ok=fancy)
            if fancy:
                _warn_expanded(target)
            target[advanced if advanced is not None else ...] = \
                value._data if isinstance(value, TensorBase) else P.checked_scalar(value,
                                                                                   target.dtype)
            self._bump_version()
            return
        t = S.Slice.apply(self, key=basic) if basic is not None else self
        if advanced is None:
            t.copy_(value)
            return
        # recorded into an expanded tensor PyTorch writes (deprecated); a backward through it
        # fails (CopySlices refuses an overlapping view). A Python-bool key is refused.
        fancy = any(isinstance(k, np.ndarray) and k.ndim for k in advanced)
        I.check_writable(t, "index_put_", overlap_ok=fancy)
        if fancy:
            _warn_expanded(t._data)
        if isinstance(value, TensorBase) and value._data.dtype != t._data.dtype:
            value = value.type(t._data.dtype)
        I.apply_inplace(OI.IndexPut, t, value, key=advanced)


def _warn_expanded(a):
    if any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the "
                      "tensor before performing this operation.", UserWarning, stacklevel=3)


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

def _infer(old, new):
    if -1 not in new:
        return new
    known = int(np.prod([s for s in new if s != -1]))
    return tuple(int(np.prod(old)) // known if s == -1 else s for s in new)

def _index_key(key):
    """The index as a tuple, Tensors and lists inside it as arrays; negative steps refused."""
    keys = key if isinstance(key, tuple) else (key,)
    out = []
    for k in keys:
        if isinstance(k, TensorBase):
            k = _tensor_index(k._data)
        elif isinstance(k, (bool, np.bool_)):
            k = np.asarray(k)  # a Python bool is a 0-d mask in PyTorch: advanced, as numpy
        elif isinstance(k, (list, range)):
            # a range is a sequence of ints to torch (``x[range(n), target]`` in its tutorials)
            k = np.asarray(k, dtype=np.int64) if len(k) == 0 else np.asarray(k)
        elif isinstance(k, slice) and k.step is not None and k.step < 0:
            raise ValueError("step must be greater than zero")
        if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu":
            k = int(k)  # a 0-d integer tensor indexes like an int
        out.append(k)
    return tuple(out)

def _tensor_index(k):
    """A tensor used as an index: torch takes int64, int32 and bool, and uint8 as a (deprecated)
    bool mask; int8 and int16 are refused."""
    if k.dtype == np.uint8:
        warnings.warn("indexing with dtype minitorch.uint8 is now deprecated, please use a dtype "
                      "minitorch.bool instead.", UserWarning, stacklevel=4)
        return k.astype(np.bool_)
    if k.dtype in (np.int8, np.int16):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return k

def _split_key(key, ndim):
    """PyTorch's order: integers and slices first (a view, ints removing their dims), then the
    advanced (array) indices over what is left, as ``(basic, advanced)``; either may be None."""
    if not any(isinstance(k, np.ndarray) for k in key):
        # a trailing Ellipsis makes numpy return a 0-d view, not a copied scalar, for x[0, 1]
        return (key if any(k is Ellipsis for k in key) else key + (Ellipsis,)), None
    basic, advanced = [], []
    for k in key:
        if isinstance(k, np.ndarray):
            n = k.ndim if k.dtype == np.bool_ else 1
            basic.extend([slice(None)] * n)
            advanced.append(k)
        elif isinstance(k, numbers.Integral) and not isinstance(k, bool):
            basic.append(k)
        elif k is None:
            basic.append(None)
            advanced.append(slice(None))
        elif k is Ellipsis:
            basic.append(k)
            advanced.append(k)
        else:
            basic.append(k)
            advanced.append(slice(None))
    simple = all(isinstance(k, slice) and k == slice(None) or k is Ellipsis for k in basic)
    return (None if simple else tuple(basic)), tuple(advanced)
