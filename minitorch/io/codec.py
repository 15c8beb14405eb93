"""Python objects <-> HDF5 nodes, without pickle.

Two layouts (DESIGN section 3):

* A **state dict** (a flat mapping of dotted names to tensors or arrays) becomes a tree of
  datasets, dots turned into groups: ``layer1.0.conv1.weight`` lives at ``layer1/0/conv1/weight``.
  Reading walks the tree and joins the path with dots again, so flat names written by hand
  (``f["layer1.0.conv1.weight"] = a``) come back identically.
* **Any other object** becomes one node per value, with a ``kind`` attribute saying what to
  rebuild: groups for ``dict``/``list``/``tuple``, datasets for everything else. A dict child is
  named by its key when the key is a usable HDF5 name; otherwise (int keys, names containing
  ``/``, clashes) it gets a placeholder name and the real key in its ``key`` attribute.

Groups are created with ``track_order=True`` so dict order survives and viewers show it.
"""
from collections import OrderedDict
from collections.abc import Mapping

import h5py
import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .errors import CorruptFileError, UnsupportedObjectError
from .h5_guard import MAX_DEPTH
from .walk import dotted_leaves

__all__ = ["state_dict_hint", "is_state_dict", "write_state_dict", "read_state_dict", "write_value",
           "read_value", "write_container", "read_container"]

_NUMERIC_KINDS = "biufc"  # numpy dtype kinds HDF5 stores natively (bool, ints, floats, complex)
_STR = h5py.string_dtype("utf-8")
_TENSOR_DTYPES = tuple(d.np for d in dtypes._ALL)


def _array_of(value):
    """The ndarray behind a tensor or array, or None for anything else."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    return None


def _dataset(parent, name, arr):
    """``parent.create_dataset(name, data=arr)`` through h5py's low-level calls, returning the
    dataset's id: the same HDF5 object (contiguous, no filters, no times recorded: what
    create_dataset makes) at about half the cost, which matters for a checkpoint's ~200
    datasets written every epoch."""
    arr = np.asarray(arr, order="C")   # (not ascontiguousarray: it makes a 0-d array 1-d)
    if arr.size == 0 or not arr.dtype.isnative:   # rare: let h5py handle the edge cases
        return parent.create_dataset(name, data=arr).id
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    space = h5py.h5s.create_simple(arr.shape) if arr.ndim else h5py.h5s.create(h5py.h5s.SCALAR)
    dsid = h5py.h5d.create(parent.id, name.encode(), h5py.h5t.py_create(arr.dtype, logical=True),
                           space, dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, arr)
    return dsid


_STR_TYPE = h5py.h5t.py_create(_STR, logical=True)


def _str_attr(node, name, value):
    """``node.attrs[name] = value`` for a str (a scalar variable-length UTF-8 attribute, as h5py
    writes it), on a low-level id or a high-level object."""
    oid = node.id if isinstance(node, h5py.HLObject) else node
    attr = h5py.h5a.create(oid, name.encode(), _STR_TYPE, h5py.h5s.create(h5py.h5s.SCALAR))
    attr.write(np.array(value.encode(), dtype=_STR))


def _state_dict_path(key):
    """The HDF5 path of a state-dict key, or None when the key cannot be one."""
    if not isinstance(key, str) or not key or "/" in key:
        return None
    parts = key.split(".")
    if any(p == "" for p in parts):
        return None
    return "/".join(parts)


def is_state_dict(obj) -> bool:
    """True for a non-empty flat mapping of dotted names to numeric tensors/arrays whose names
    form a tree (no key is a prefix of another, as ``a`` and ``a.b`` would be)."""
    if not isinstance(obj, Mapping) or not obj:
        return False
    paths = []
    for key, value in obj.items():
        arr = _array_of(value)
        path = _state_dict_path(key)
        if arr is None or path is None or arr.dtype.kind not in _NUMERIC_KINDS:
            return False
        paths.append(path)
    leaves = set(paths)
    for path in paths:
        parts = path.split("/")
        if any("/".join(parts[:i]) in leaves for i in range(1, len(parts))):
            return False
    return len(leaves) == len(paths)


def _subgroup(group, parts, cache):
    # Intermediate groups are made by hand so that they too keep creation order.
    for i in range(len(parts)):
        prefix = "/".join(parts[: i + 1])
        if prefix not in cache:
            cache[prefix] = group.create_group(prefix, track_order=True)
    return cache["/".join(parts)] if parts else group


def write_state_dict(group, sd: Mapping) -> None:
    """Write a mapping for which ``is_state_dict`` holds into ``group``."""
    cache = {}
    for key, value in sd.items():
        parts = key.split(".")
        parent = _subgroup(group, parts[:-1], cache)
        ds = _dataset(parent, parts[-1], _array_of(value))
        if not isinstance(value, Tensor):
            _str_attr(ds, "kind", "ndarray")  # absent means tensor: hand-written files lack it
        elif value.requires_grad:
            h5py.AttributeManager(h5py.Dataset(ds))["requires_grad"] = True
    if isinstance(sd, OrderedDict):
        group.attrs["ordered"] = True


def _tensor_dtype(arr):
    """Hand-written files may hold dtypes a Tensor lacks: widen half floats and other ints."""
    if arr.dtype in _TENSOR_DTYPES:
        return arr
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    raise CorruptFileError(f"unsupported dtype {arr.dtype} for a tensor")


def read_state_dict(group, where: str, guard) -> OrderedDict:
    """The flat dict of dotted names -> Tensors (ndarrays where saved as such) under ``group``;
    ``guard`` (a ``ReadGuard``) checks every link, size and value before it is read."""
    out = OrderedDict()
    # Depth first in stored (creation) order, recursing at once: this reproduces the saved key
    # order whenever keys sharing a prefix were contiguous, as in every Module.state_dict().
    def branch(node, key):
        return guard.items(node, key) if isinstance(node, h5py.Group) else None

    for key, child in dotted_leaves(guard.items(group, ""), branch):
        if child.dtype.kind not in _NUMERIC_KINDS or child.shape is None:
            raise CorruptFileError(f"{where}: entry '{key}' is not a numeric array "
                                   f"(dtype {child.dtype})")
        arr = guard.read_array(child, key)
        guard.check_finite(arr, key)
        if guard.attr(child, "kind") == "ndarray":
            out[key] = arr
        else:
            out[key] = Tensor._new(_tensor_dtype(arr),
                              requires_grad=bool(guard.attr(child, "requires_grad", False)))
    return out


def _homogeneous(seq):
    """'str', 'int' or 'float' when every item of a non-empty list has that exact type."""
    if not seq:
        return None
    for name, typ in (("str", str), ("int", int), ("float", float)):
        if all(type(x) is typ for x in seq):
            return name
    return None


def _write_sequence(parent, name, seq, where):
    kind = "tuple" if isinstance(seq, tuple) else "list"
    elem = _homogeneous(seq)
    if elem == "str" and not any("\x00" in s for s in seq):
        node = parent.create_dataset(name, data=np.array(seq, dtype=_STR))
    elif elem == "int" and all(-2**63 <= x < 2**63 for x in seq):
        node = parent.create_dataset(name, data=np.array(seq, dtype=np.int64))
    elif elem == "float":
        node = parent.create_dataset(name, data=np.array(seq, dtype=np.float64))
    else:
        # Mixed items: one child node per item, named by position.
        node = parent.create_group(name, track_order=True)
        for i, item in enumerate(seq):
            write_value(node, str(i), item, f"{where}[{i}]")
        elem = None
    _str_attr(node, "kind", kind)
    if elem is not None:
        _str_attr(node, "elem", elem)


def _write_dict(parent, name, obj, where):
    if is_state_dict(obj):
        node = parent.create_group(name, track_order=True)
        write_state_dict(node, obj)
        _str_attr(node, "kind", "state_dict")
        return
    node = parent.create_group(name, track_order=True)
    _str_attr(node, "kind", "dict")
    write_container(node, obj, where)


def _write_dict_items(group, obj, where):
    used = set()
    for i, (key, value) in enumerate(obj.items()):
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise UnsupportedObjectError(f"cannot save dict key {key!r} of type "
                                         f"{type(key).__name__} at {where}: "
                                         f"keys must be str or int")
        name = key if isinstance(key, str) else str(key)
        if not name or "/" in name or name == "." or name in used or name.startswith("~"):
            name = f"~{i}"
        used.add(name)
        write_value(group, name, value, f"{where}[{key!r}]")
        if name != key:
            group[name].attrs["key"] = key
    if isinstance(obj, OrderedDict):
        group.attrs["ordered"] = True


def write_container(group, obj, where: str) -> None:
    """Write the items of a dict, list or tuple directly into an existing group (the file root)."""
    if isinstance(obj, Mapping):
        _write_dict_items(group, obj, where)
        return
    for i, item in enumerate(obj):
        write_value(group, str(i), item, f"{where}[{i}]")


def _scalar_dataset(parent, name, obj, where):
    """Datasets for Python scalars, strings and None; returns (node, kind) or None if not one."""
    if obj is None:
        return parent.create_dataset(name, data=h5py.Empty("i1")), "none"
    if isinstance(obj, bool):
        return _dataset(parent, name, np.bool_(obj)), "bool"
    if isinstance(obj, int):
        if not -2**63 <= obj < 2**63:
            raise UnsupportedObjectError(f"cannot save integer {obj} at {where}: beyond int64")
        return _dataset(parent, name, np.int64(obj)), "int"
    if isinstance(obj, float):
        return _dataset(parent, name, np.float64(obj)), "float"
    if isinstance(obj, str):
        if "\x00" in obj:  # HDF5 variable-length strings end at NUL: keep the UTF-8 bytes
            return parent.create_dataset(name, data=np.frombuffer(obj.encode(), np.uint8)), "str0"
        return parent.create_dataset(name, data=obj, dtype=_STR), "str"
    if isinstance(obj, (bytes, bytearray)):
        return parent.create_dataset(name, data=np.frombuffer(bytes(obj), np.uint8)), "bytes"
    if isinstance(obj, np.generic) and obj.dtype.kind in _NUMERIC_KINDS:
        return _dataset(parent, name, np.asarray(obj)), "scalar"
    return None


def write_value(parent, name: str, obj, where: str) -> None:
    """Store ``obj`` as the child ``name`` of ``parent``; ``where`` names it in errors."""
    if isinstance(obj, Mapping):
        _write_dict(parent, name, obj, where)
        return
    if isinstance(obj, (list, tuple)):
        _write_sequence(parent, name, obj, where)
        return
    arr = _array_of(obj)
    if arr is not None:
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise UnsupportedObjectError(f"cannot save array of dtype {arr.dtype} at {where}")
        node = _dataset(parent, name, arr)
        _str_attr(node, "kind", "tensor" if isinstance(obj, Tensor) else "ndarray")
        if isinstance(obj, Tensor) and obj.requires_grad:
            h5py.AttributeManager(h5py.Dataset(node))["requires_grad"] = True
        return
    made = _scalar_dataset(parent, name, obj, where)
    if made is None:
        raise UnsupportedObjectError(f"cannot save object of type {type(obj).__name__} at "
                                     f"{where}: only dicts, lists, tuples, tensors, arrays, "
                                     f"numbers, strings, bools and None"
                                     f"{state_dict_hint(obj)}")
    _str_attr(made[0], "kind", made[1])


def _read_sequence_dataset(node, kind, guard):
    elem = guard.attr(node, "elem")
    if elem == "str":
        items = node.asstr()[...].tolist()
    else:
        items = node[...].tolist()  # tolist gives Python ints/floats, as saved
    return tuple(items) if kind == "tuple" else items


def _read_dataset(node, kind, where, guard):
    guard.check_dataset(node, node.name, strings_ok=kind in ("str", "list", "tuple"))
    if kind in ("tensor", None):
        return Tensor._new(node[...], requires_grad=bool(guard.attr(node, "requires_grad", False)))
    if kind == "ndarray":
        return node[...]
    if kind in ("list", "tuple"):
        return _read_sequence_dataset(node, kind, guard)
    readers = {
        "none": lambda: None,
        "bool": lambda: bool(node[()]),
        "int": lambda: int(node[()]),
        "float": lambda: float(node[()]),
        "str": lambda: node.asstr()[()],
        "str0": lambda: node[...].tobytes().decode(),
        "bytes": lambda: node[...].tobytes(),
        "scalar": lambda: node[()],
    }
    if kind not in readers:
        raise CorruptFileError(f"{where}: unknown kind {kind!r}")
    return readers[kind]()


def _child_key(name, child, guard):
    key = guard.attr(child, "key", name)
    if isinstance(key, np.integer):
        return int(key)
    return key.decode() if isinstance(key, bytes) else str(key)


def read_container(group, kind: str, where: str, guard, depth=0):
    """Rebuild the dict, list or tuple whose items are the children of ``group``."""
    if depth > MAX_DEPTH:
        guard.fail(group.name[:60] + "...", f"is nested deeper than {MAX_DEPTH} levels")
    children = list(guard.items(group, group.name, sep="/"))
    if kind == "dict":
        out = OrderedDict() if guard.attr(group, "ordered", False) else {}
        for name, child in children:
            key = _child_key(name, child, guard)
            out[key] = read_value(child, f"{where}[{key!r}]", guard, depth + 1)
        return out
    try:
        children.sort(key=lambda kv: int(kv[0]))
    except ValueError:
        raise CorruptFileError(f"{where}: a {kind} whose items are not named by position") \
            from None
    values = [read_value(child, f"{where}[{name}]", guard, depth + 1) for name, child in children]
    return tuple(values) if kind == "tuple" else values


def _kind(node, guard):
    kind = guard.attr(node, "kind")
    return kind.decode() if isinstance(kind, bytes) else kind


def read_value(node, where: str, guard, depth=0):
    """Rebuild the object stored at ``node`` (``guard`` checks links, sizes and nesting)."""
    kind = _kind(node, guard)
    if isinstance(node, h5py.Dataset):
        return _read_dataset(node, kind, where, guard)
    if kind == "state_dict":
        sd = read_state_dict(node, where, guard)
        return sd if guard.attr(node, "ordered", False) else dict(sd)
    if kind in ("dict", "list", "tuple"):
        return read_container(node, kind, where, guard, depth)
    raise CorruptFileError(f"{where}: group without a known 'kind' attribute ({kind!r})")


def state_dict_hint(obj) -> str:
    """For a model or an optimizer (anything with ``state_dict()``): say what to save instead,
    since minitorch files hold no pickled objects."""
    if callable(getattr(obj, "state_dict", None)):
        return (f"; save its state dict instead: mt.save(obj.state_dict(), path), and restore "
                f"with a new {type(obj).__name__}(...).load_state_dict(mt.load(path))")
    return ""
