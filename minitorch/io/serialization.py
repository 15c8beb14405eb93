"""``save(obj, path)`` / ``load(path)``: objects and state dicts in HDF5, never pickle.

Root attributes tell the layouts apart (DESIGN section 3): ``format`` is
``"minitorch.state_dict"`` for a weights file, ``"minitorch.object"`` for anything else and
``"minitorch.checkpoint"`` for a training checkpoint (an object file with a fixed set of entries);
``format_version`` is 1. Files written by hand with only numeric datasets and no ``format``
attribute load as state dicts. Every write is atomic (see ``atomic.py``).
"""
import contextlib
import io
import os
from collections import OrderedDict
from collections.abc import Mapping

import h5py
import numpy as np

from .atomic import atomic_write_bytes
from .codec import (is_state_dict, read_container, read_state_dict, read_value, state_dict_hint,
                    write_container, write_state_dict, write_value)
from .errors import CorruptFileError, UnsupportedObjectError
from .h5_guard import ReadGuard
from .weights_schema import check_weights_attrs

__all__ = ["save", "load", "save_state_dict", "load_attrs", "FORMAT_VERSION", "open_h5"]

FORMAT_VERSION = 1
STATE_DICT_FORMAT = "minitorch.state_dict"
OBJECT_FORMAT = "minitorch.object"
CHECKPOINT_FORMAT = "minitorch.checkpoint"
_RESERVED_ATTRS = ("format", "format_version", "kind", "ordered")


def _attr_value(name, value):
    """Validate a descriptive root attribute: a str, a number, or a flat list of either."""
    if isinstance(value, (str, bool, int, float, np.generic)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return np.array(value, dtype=h5py.string_dtype("utf-8"))
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.ndim == 1:
            return arr
    raise UnsupportedObjectError(f"attribute {name!r}: unsupported value {value!r} "
                                 f"(use a str, a number or a flat list of them)")


def _write_attrs(f, attrs):
    for name, value in (attrs or {}).items():
        if name in _RESERVED_ATTRS:
            raise ValueError(f"attribute {name!r} is reserved by minitorch")
        f.attrs[name] = _attr_value(name, value)


def _write_file(path, fmt, attrs, write_body):
    # The file is built in memory and then written as plain bytes: a disk that refuses the
    # write (full, read-only, a file-size limit) is then one clean OSError from the atomic
    # writer, where HDF5 failing mid-flush raises RuntimeErrors and can crash at exit.
    buf = io.BytesIO()
    with h5py.File(buf, "w", track_order=True) as f:
        f.attrs["format"] = fmt
        f.attrs["format_version"] = FORMAT_VERSION
        _write_attrs(f, attrs)
        write_body(f)
    with buf.getbuffer() as image:   # no copy of the file's bytes
        atomic_write_bytes(path, image)


def save_state_dict(state_dict: Mapping, path, attrs=None) -> None:
    """Save a flat dict of dotted names -> tensors/arrays in the weights layout.

    ``attrs`` are descriptive root attributes (arch, num_classes, class_names, mean, std,
    source, ...). Raises ValueError naming the first key that cannot be a dataset path.
    """
    if not is_state_dict(state_dict):
        raise ValueError(f"not a state dict: {_why_not_state_dict(state_dict)}")
    _write_file(path, STATE_DICT_FORMAT, attrs, lambda f: write_state_dict(f, state_dict))


def _why_not_state_dict(obj):
    if not isinstance(obj, Mapping):
        return f"expected a dict, got {type(obj).__name__}"
    if not obj:
        return "it is empty"
    for key in obj:
        if not is_state_dict({key: obj[key]}):
            return f"entry {key!r} is not a dotted name mapped to a numeric tensor or array"
    return "some key is also the prefix of another key (as 'a' and 'a.b')"


def save(obj, path, attrs=None, _format=None) -> None:
    """Save ``obj`` to the HDF5 file ``path`` (atomically; overwrites).

    A state dict is written in the weights layout; any nesting of dicts (str or int keys),
    lists, tuples, tensors, arrays, numbers, strings, bools and None is written node by node.
    ``attrs`` adds descriptive root attributes (read them back with ``load_attrs``).
    """
    hint = state_dict_hint(obj)
    if hint:  # torch.save(model, path) pickles the module; here that is a clear error instead
        raise UnsupportedObjectError(f"cannot save a whole {type(obj).__name__}: minitorch "
                                     f"files hold no pickled objects{hint}")
    if is_state_dict(obj) and _format is None:
        _write_file(path, STATE_DICT_FORMAT, attrs, lambda f: write_state_dict(f, obj))
        return

    def body(f):
        if isinstance(obj, (Mapping, list, tuple)):
            f.attrs["kind"] = "dict" if isinstance(obj, Mapping) else type(obj).__name__
            write_container(f, obj, "root")
            if isinstance(obj, OrderedDict):
                f.attrs["ordered"] = True
        else:  # a single value: the root group holds it under the name "value"
            f.attrs["kind"] = "value"
            write_value(f, "value", obj, "root")

    _write_file(path, _format or OBJECT_FORMAT, attrs, body)


def _check_readable(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"'{path}' is a directory, not a file")
    if os.path.getsize(path) == 0:
        raise CorruptFileError(f"'{path}': empty file, not an HDF5 file")
    if not h5py.is_hdf5(path):
        raise CorruptFileError(f"'{path}': not an HDF5 file{_pth_hint(path)}")


def _pth_hint(path):
    """A hint for the likely mistake of loading a PyTorch file directly."""
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"PK" or head[:1] == b"\x80":
        return (f" (it looks like a PyTorch .pth file: convert it with "
                f"python scripts/convert_torchvision.py {path} OUT.h5)")
    return ""


def open_h5(path) -> h5py.File:
    """Open an existing HDF5 file for reading, with one-line errors for missing/bad files."""
    path = os.fspath(path)
    _check_readable(path)
    try:
        return h5py.File(path, "r")
    except OSError as e:
        text = str(e)
        if "truncated" in text:
            raise CorruptFileError(f"'{path}': truncated HDF5 file ({text})") from None
        raise CorruptFileError(f"'{path}': damaged HDF5 file ({text})") from None


def _format_of(f, path, guard):
    fmt = guard.attr(f, "format")
    if fmt is None:
        if _looks_like_hand_written_state_dict(f):
            return STATE_DICT_FORMAT
        raise CorruptFileError(f"'{path}': not a minitorch file: missing attribute 'format'")
    fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
    if fmt not in (STATE_DICT_FORMAT, OBJECT_FORMAT, CHECKPOINT_FORMAT):
        raise CorruptFileError(f"'{path}': not a minitorch file: unknown format {fmt!r}")
    version = guard.attr(f, "format_version", 1)
    if isinstance(version, (bool, np.bool_)) or not isinstance(version, (int, np.integer)):
        raise CorruptFileError(f"'{path}': attribute 'format_version' must be an integer, "
                               f"got {_plain_attr(version)!r:.60}")
    if int(version) > FORMAT_VERSION:
        raise CorruptFileError(f"'{path}': format_version {int(version)} is newer than this "
                               f"minitorch reads ({FORMAT_VERSION}); upgrade minitorch")
    return fmt


def _looks_like_hand_written_state_dict(f):
    """Only numeric datasets (in groups or with dotted names) and no minitorch ``kind`` marks."""
    counts = {"datasets": 0, "other": 0}

    def visit(name, node):
        if "kind" in node.attrs:
            counts["other"] += 1
        elif isinstance(node, h5py.Dataset):
            numeric = node.dtype.kind in "biuf" and node.shape is not None
            counts["datasets" if numeric else "other"] += 1

    f.visititems(visit)
    return counts["datasets"] > 0 and counts["other"] == 0


def load(path, map_location=None, weights_only=None, *, allow_nonfinite=False,
         max_bytes=None):
    """Load what ``save`` wrote (or a hand-written weights file).

    A weights file comes back as an OrderedDict of dotted names -> Tensors, ready for
    ``model.load_state_dict``; the file is HDF5 whatever its name (``model.pth`` too).
    ``weights_only`` is accepted for PyTorch compatibility (nothing is ever unpickled, so every
    load is weights-only); ``map_location`` may be None, ``"cpu"``, a cpu device, a dict
    mapping locations to ``"cpu"`` or a callable: everything lives on the CPU, and asking for
    another device is a RuntimeError.

    The file is read defensively (``h5_guard``): sizes are checked against the file before
    anything is allocated, links that leave the file or loop are refused, and a state dict
    holding NaN or Inf is refused (``NonFiniteError``) unless ``allow_nonfinite=True``.
    ``max_bytes`` caps the total the file may make this call allocate.
    """
    _check_map_location(map_location)
    path = os.fspath(path)
    with open_h5(path) as f:
        guard = ReadGuard(path, max_bytes=max_bytes, allow_nonfinite=allow_nonfinite)
        with _damage_as_corrupt(path):
            return _read_root(f, _format_of(f, path, guard), path, guard)


def _check_map_location(map_location) -> None:
    if map_location is None or callable(map_location):
        return  # a callable (storage, location) -> storage has nothing to move here
    targets = map_location.values() if isinstance(map_location, Mapping) else [map_location]
    for target in targets:
        kind = getattr(target, "type", target)  # a device object, or its name
        if not isinstance(kind, str) or kind.split(":")[0] != "cpu":
            raise RuntimeError(f"map_location={map_location!r}: minitorch runs on the CPU "
                               f"only; use map_location='cpu' or leave it out")


@contextlib.contextmanager
def _damage_as_corrupt(path):
    """Clobbered metadata makes h5py raise from anywhere (OSError, KeyError, RuntimeError,
    ValueError, TypeError ...): one CorruptFileError naming the file instead."""
    try:
        yield
    except CorruptFileError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, IndexError,
            AttributeError, UnicodeDecodeError) as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CorruptFileError(f"'{path}': damaged HDF5 file ({text})") from None


def _read_root(f, fmt, path, guard):
    if fmt == STATE_DICT_FORMAT:
        return read_state_dict(f, f"'{path}'", guard)
    kind = guard.attr(f, "kind")
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind == "value":
        return read_value(f["value"], f"'{path}'", guard)
    if kind not in ("dict", "list", "tuple"):
        raise CorruptFileError(f"'{path}': root has no known 'kind' attribute ({kind!r})")
    return read_container(f, kind, f"'{path}'", guard)


def _plain_attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [_plain_attr(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_attrs(path) -> dict:
    """The root attributes of a minitorch HDF5 file as plain Python values (format included),
    each descriptive one checked against the schema in ``weights_schema``."""
    path = os.fspath(path)
    with open_h5(path) as f:
        guard = ReadGuard(path)
        with _damage_as_corrupt(path):
            attrs = {name: _plain_attr(guard.attr(f, name)) for name in f.attrs
                     if name not in ("kind", "ordered")}
    check_weights_attrs(attrs, path)
    return attrs
