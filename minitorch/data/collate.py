"""``default_collate`` and ``default_convert``: how samples become batches, as in torch.

Tensors and arrays are stacked along a new first axis (samples of unequal shapes are torch's
RuntimeError: "stack expects each tensor to be equal size, but got [3] at entry 0 and [4] at
entry 1"); Python ints become an int64 tensor, floats float64, bools bool, numpy scalars keep
their dtype; strings and bytes stay a list; dicts are collated key by key, namedtuples field by
field (same type), other sequences position by position into a list.
"""
import collections.abc
import numbers

import numpy as np

from .errors import DataError

__all__ = ["default_collate", "default_convert", "CollateError"]

_TYPE_HINT = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists"


class CollateError(DataError, RuntimeError):
    """Samples that cannot be batched together (a RuntimeError, as in torch)."""


def _tensor(array):
    # Imported lazily: the data layer sits above the core and must not import it at load time.
    from minitorch.tensor import Tensor
    return Tensor._new(np.asarray(array, order="C"))   # (ascontiguousarray would make 0-d 1-d)


def _is_tensor(x):
    return isinstance(getattr(x, "_data", None), np.ndarray) and hasattr(x, "grad_fn")


def _array_of(x):
    return x._data if _is_tensor(x) else np.asarray(x)


def _stack(batch):
    arrays = [_array_of(b) for b in batch]
    first = arrays[0]
    if first.dtype.kind in "USO":
        raise TypeError(f"{_TYPE_HINT}; found {first.dtype}")
    for i, a in enumerate(arrays):
        if a.shape != first.shape:
            raise CollateError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first.shape)} at entry 0 and {list(a.shape)} at entry {i}")
    return _tensor(np.stack(arrays))


def default_collate(batch):
    """Stack a list of samples into Tensors, following torch's ``default_collate``."""
    if len(batch) == 0:
        raise DataError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, np.ndarray) or _is_tensor(elem):
        return _stack(batch)
    if isinstance(elem, (bool, np.bool_)):
        return _tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, np.generic) and elem.dtype.kind in "iuf":
        return _tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, numbers.Integral):
        return _tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return _tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([b[key] for b in batch]) for key in elem}
        return _same_type(elem, out)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # a namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise CollateError("each element in list of batch should be of equal size")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(f"{_TYPE_HINT}; found {type(elem)}")


def _same_type(elem, out):
    try:
        return type(elem)(out)
    except TypeError:   # a Mapping type that cannot be built from a dict
        return out


def default_convert(data):
    """Arrays and numpy scalars to Tensors, recursively through dicts and sequences (the
    DataLoader's conversion when ``batch_size=None`` turns batching off)."""
    if _is_tensor(data):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "USO" else _tensor(data)
    if isinstance(data, np.generic) and data.dtype.kind in "biuf":
        return _tensor(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        return _same_type(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        return [default_convert(d) for d in data]
    return data
