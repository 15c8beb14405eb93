"""Tensor factories with PyTorch's signatures: ``tensor``, ``zeros``, ``rand``, ``arange``, ..."""
import numpy as np

from . import _promotion as P
from . import dtypes
from ._device import check_device
from .random import default_generator
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like",
           "full_like", "empty_like", "rand_like", "randn_like", "eye", "tril_indices",
           "triu_indices"]


def _float_default(np_dtype):
    return np.dtype(np.float32) if np_dtype == np.float64 else np_dtype


def tensor(data, dtype=None, requires_grad=False, device=None, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or a Tensor).
    Python floats become float32, as PyTorch's default dtype."""
    check_device(device)
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        arr = _convert(data, dtypes.to_numpy_dtype(dtype))
    else:
        arr = np.array(data, copy=True)
        if not isinstance(data, np.ndarray):
            arr = arr.astype(_float_default(arr.dtype), copy=False)
        if arr.dtype.kind in "iu" and arr.dtype != np.int64 and not isinstance(data, np.ndarray):
            arr = arr.astype(np.int64)
    return Tensor._new(arr, requires_grad=requires_grad)


def _convert(data, np_dtype):
    """``data`` as a new array of ``np_dtype``. Python numbers going into an integer dtype are
    checked as torch does (``tensor([300], dtype=uint8)`` raises); arrays are cast (wrapping)."""
    if np_dtype.kind in "iu" and not isinstance(data, np.ndarray):
        raw = np.array(data)
        P.check_fits(raw, np_dtype, c_name=False)
        return raw.astype(np_dtype)
    return np.array(data, dtype=np_dtype, copy=True)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data._data.dtype ==
                                     dtypes.to_numpy_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and dtype is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an np.ndarray, got {type(array).__name__}")
    return Tensor._new(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if int(s) < 0:
            raise ValueError(f"negative dimension {s} in size {tuple(size)}")
    return tuple(int(s) for s in size)


def _dt(dtype, default=dtypes.float32):
    return dtypes.to_numpy_dtype(dtype if dtype is not None else default)


def zeros(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return Tensor._new(np.zeros(_size(size), _dt(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return Tensor._new(np.ones(_size(size), _dt(dtype)), requires_grad=requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return Tensor._new(np.empty(_size(size), _dt(dtype)), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    if dtype is None:
        dtype = (dtypes.bool if isinstance(fill_value, bool) else
                 dtypes.int64 if isinstance(fill_value, int) else dtypes.float32)
    np_dtype = _dt(dtype)
    value = fill_value._data if isinstance(fill_value, Tensor) else P.checked_scalar(fill_value,
                                                                                      np_dtype)
    return Tensor._new(np.full(_size((size,)), value, np_dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return Tensor._new(np.eye(n, m, dtype=_dt(dtype)), requires_grad=requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix."""
    check_device(device)
    rows_cols = np.stack(np.tril_indices(row, offset, col))
    return Tensor._new(rows_cols.astype(_dt(dtype or dtypes.int64)))


def triu_indices(row, col, offset=0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix."""
    check_device(device)
    rows_cols = np.stack(np.triu_indices(row, offset, col))
    return Tensor._new(rows_cols.astype(_dt(dtype or dtypes.int64)))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.float32
    return Tensor._new(np.arange(start, end, step, dtype=_dt(dtype)), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return Tensor._new(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad=requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    """Uniform [0, 1) samples from minitorch's generator (seeded by ``manual_seed``)."""
    check_device(device)
    g = generator or default_generator()
    dt = _dt(dtype)
    return Tensor._new(g.random(_size(size), dtype=np.float64).astype(dt), requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    check_device(device)
    g = generator or default_generator()
    dt = _dt(dtype)
    return Tensor._new(g.standard_normal(_size(size)).astype(dt), requires_grad=requires_grad)


def randint(low, high=None, size=None, dtype=None, generator=None, device=None) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``, as in PyTorch."""
    check_device(device)
    if size is None:
        low, high, size = 0, low, high
    g = generator or default_generator()
    return Tensor._new(g.integers(low, high, _size((size,))).astype(_dt(dtype, dtypes.int64)))


def randperm(n, dtype=None, generator=None, device=None) -> Tensor:
    check_device(device)
    g = generator or default_generator()
    return Tensor._new(g.permutation(n).astype(_dt(dtype, dtypes.int64)))


def zeros_like(t, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return empty(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device)
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
