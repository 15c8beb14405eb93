"""Read PyTorch ``.pth`` state dicts without torch and without trusting their pickle.

A ``torch.save`` file is a zip: ``<name>/data.pkl`` (a pickle of the object, whose tensors point
at storages through persistent ids) and ``<name>/data/<key>`` (each storage's raw bytes). The
older non-zip format is a chain of pickles followed by the raw storages.

Pickle can call any importable function, so the unpickler here resolves globals from a short
allow-list only (``find_class`` runs when the GLOBAL opcode is read, before anything is called),
mapped to pure-numpy stand-ins. The stand-ins return slot-only wrappers, so no BUILD opcode can
reach numpy's own ``__setstate__``. Every tensor is bounds-checked against its storage before a
strided view is taken, so hostile sizes or strides cannot read outside the data.
"""
import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

from .errors import CorruptFileError, UnsafePickleError

__all__ = ["read_pth"]

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16,  # numpy has no bfloat16: raw bits, widened to float32 later
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _BadPickle(Exception):
    """Raised by the stand-ins; reported as UnsafePickleError naming the file."""


class _StorageType:
    """Stands in for ``torch.FloatStorage`` and friends: only its dtype is ever used."""
    __slots__ = ("name", "dtype")

    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    """One storage's elements (filled later for the legacy format)."""
    __slots__ = ("kind", "key", "array")

    def __init__(self, kind, key, array=None):
        self.kind, self.key, self.array = kind, key, array


class _RebuiltTensor:
    """What a tensor unpickles to: a storage and a geometry, materialised after loading."""
    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _Storage):
            raise _BadPickle(f"tensor rebuilt from a {type(storage).__name__}, "
                                    f"not a storage")
        for name, seq in (("size", size), ("stride", stride)):
            if not isinstance(seq, tuple) or not all(type(v) is int and v >= 0 for v in seq):
                raise _BadPickle(f"tensor {name} {seq!r} is not a tuple of ints >= 0")
        if type(offset) is not int or offset < 0 or len(size) != len(stride):
            raise _BadPickle(f"bad tensor geometry: offset {offset!r}, size {size}, "
                                    f"stride {stride}")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _RebuiltTensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _RebuiltTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    if not isinstance(data, _RebuiltTensor):
        raise _BadPickle(f"parameter rebuilt from a {type(data).__name__}, not a tensor")
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the allow-listed globals; storages come from ``load_storage``."""

    def __init__(self, file, path: str, load_storage):
        super().__init__(file)
        self._path = path
        self._load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafePickleError(f"'{self._path}': refused to load global '{module}.{name}': "
                                f"a state dict needs only tensors and dicts")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)):
            raise UnsafePickleError(f"'{self._path}': unexpected persistent id {pid!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise CorruptFileError(f"'{self._path}': storage views (legacy format) are not "
                                   f"supported")
        return self._load_storage(pid[1], pid[2])


def _unpickle(file, path: str, load_storage):
    """Load one pickle from ``file`` (left just after it), with errors naming ``path``."""
    try:
        return _RestrictedUnpickler(file, path, load_storage).load()
    except (UnsafePickleError, CorruptFileError):
        raise
    except _BadPickle as e:
        raise UnsafePickleError(f"'{path}': {e}") from None
    except Exception as e:  # a malformed pickle fails in many ways; all are "damaged file"
        raise CorruptFileError(f"'{path}': damaged pickle ({type(e).__name__}: {e})") from None


def _storage_array(raw: bytes, storage_type: _StorageType, big_endian: bool, where: str):
    dtype = storage_type.dtype.newbyteorder(">") if big_endian else storage_type.dtype
    if len(raw) % dtype.itemsize:
        raise CorruptFileError(f"{where}: {len(raw)} bytes is not a whole number of "
                               f"{storage_type.name} elements")
    arr = np.frombuffer(raw, dtype=dtype)
    return arr.astype(arr.dtype.newbyteorder("=")) if big_endian else arr


def _read_zip(path: str):
    with zipfile.ZipFile(path) as z:
        pickles = [n for n in z.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise CorruptFileError(f"'{path}': not a PyTorch file: no <name>/data.pkl in the zip")
        prefix = pickles[0][: -len("data.pkl")]
        names = set(z.namelist())
        big_endian = (prefix + "byteorder" in names
                      and z.read(prefix + "byteorder").strip() == b"big")
        storages = {}

        def load_storage(storage_type, key):
            if key not in storages:
                entry = f"{prefix}data/{key}"
                if entry not in names:
                    raise CorruptFileError(f"'{path}': storage '{key}' is missing from the zip")
                arr = _storage_array(z.read(entry), storage_type, big_endian, f"'{path}' {entry}")
                storages[key] = _Storage(storage_type, key, arr)
            return storages[key]

        return _unpickle(io.BytesIO(z.read(pickles[0])), path, load_storage)


def _read_legacy(path: str, data: bytes):
    """The pre-1.6 format: magic, protocol, sys_info pickles; the object; its storage keys;
    then each storage as an int64 element count followed by its bytes."""
    f = io.BytesIO(data)
    storages = {}

    def no_storage(storage_type, key):
        raise UnsafePickleError(f"'{path}': storage reference outside the main pickle")

    def declare_storage(storage_type, key):
        return storages.setdefault(key, _Storage(storage_type, key))

    if _unpickle(f, path, no_storage) != _LEGACY_MAGIC:
        raise CorruptFileError(f"'{path}': not a PyTorch file (bad magic number)")
    _unpickle(f, path, no_storage)  # protocol version
    sys_info = _unpickle(f, path, no_storage)
    big_endian = isinstance(sys_info, dict) and not sys_info.get("little_endian", True)
    obj = _unpickle(f, path, declare_storage)
    keys = _unpickle(f, path, no_storage)
    if not isinstance(keys, list) or set(keys) != set(storages):
        raise CorruptFileError(f"'{path}': storage list does not match the tensors")
    for key in keys:
        storage = storages[key]
        header = f.read(8)
        if len(header) != 8:
            raise CorruptFileError(f"'{path}': truncated (storage '{key}' missing)")
        count = struct.unpack("<q", header)[0]
        raw = f.read(count * storage.kind.dtype.itemsize)
        if count < 0 or len(raw) != count * storage.kind.dtype.itemsize:
            raise CorruptFileError(f"'{path}': truncated (storage '{key}' is short)")
        storage.array = _storage_array(raw, storage.kind, big_endian, f"'{path}' storage {key}")
    return obj


def _materialise(t: _RebuiltTensor, where: str) -> np.ndarray:
    flat = t.storage.array
    if any(n == 0 for n in t.size):
        return np.zeros(t.size, dtype=flat.dtype)
    last = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride))
    if last >= flat.size:
        raise CorruptFileError(f"{where}: tensor reaches element {last} of a storage of "
                               f"{flat.size}")
    view = np.lib.stride_tricks.as_strided(
        flat[t.offset:], shape=t.size, strides=[s * flat.itemsize for s in t.stride])
    arr = np.array(view, order="C")  # copy: detach from the file buffer and the strides
    if t.storage.kind.name == "BFloat16Storage":  # bfloat16 is the top half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _flatten(obj, path: str, prefix: str, out: dict) -> None:
    if not isinstance(obj, dict):
        raise CorruptFileError(f"'{path}': expected a state dict (a dict of tensors), found "
                               f"{type(obj).__name__}")
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, _RebuiltTensor):
            out[name] = _materialise(value, f"'{path}' entry '{name}'")
        elif isinstance(value, dict):
            _flatten(value, path, name + ".", out)
        else:
            raise CorruptFileError(f"'{path}': entry '{name}' is a {type(value).__name__}, not "
                                   f"a tensor; a state dict holds only tensors")


def read_pth(path) -> dict:
    """The state dict in a PyTorch ``.pth``/``.pt`` file as ``{dotted name: np.ndarray}``.

    Arrays keep the file's dtypes (bfloat16, which numpy lacks, becomes float32). Nested dicts
    are flattened with dots. Only tensors and dicts are accepted: any other pickled global is
    refused with ``UnsafePickleError`` before anything runs.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"'{path}' is a directory, not a file")
    if zipfile.is_zipfile(path):
        try:
            obj = _read_zip(path)
        except zipfile.BadZipFile as e:
            raise CorruptFileError(f"'{path}': damaged zip archive ({e})") from None
    else:
        with open(path, "rb") as f:
            data = f.read()
        if not data.startswith(b"\x80"):
            raise CorruptFileError(f"'{path}': not a PyTorch file (neither a zip nor a pickle)")
        obj = _read_legacy(path, data)
    out = collections.OrderedDict()
    _flatten(obj, path, "", out)
    return out
