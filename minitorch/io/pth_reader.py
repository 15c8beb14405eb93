"""Read PyTorch ``.pth`` state dicts without torch and without trusting their pickle.

A ``torch.save`` file is a zip: ``<name>/data.pkl`` (a pickle of the object, whose tensors point
at storages through persistent ids) and ``<name>/data/<key>`` (each storage's raw bytes). The
older non-zip format is a chain of pickles followed by the raw storages.

Pickle can call any importable function, so the unpickler here resolves globals from a short
allow-list only (``find_class`` runs when the GLOBAL opcode is read, before anything is called),
mapped to pure-numpy stand-ins. The stand-ins return slot-only wrappers, so no BUILD opcode can
reach numpy's own ``__setstate__``. Every tensor is bounds-checked against its storage before a
strided view is taken, so hostile sizes or strides cannot read outside the data.

Memory is bounded by what the tensors need: the pickle is walked first (``pth_guard``: memo,
nesting, stack), every tensor's geometry is checked and the caller's ``check`` sees all names and
shapes before a single storage byte is read; each storage is then read in 1 MiB chunks, only as
far as its tensors reach, from a zip entry whose size must be what the pickle declares.
"""
import collections
import contextlib
import io
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

from .errors import CorruptFileError, UnsafePickleError
from .pth_guard import MAX_PICKLE_BYTES, check_geometry, check_pickle
from .walk import dotted_leaves

__all__ = ["read_pth"]

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16,  # numpy has no bfloat16: raw bits, widened to float32 later
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_CHUNK = 1 << 20
_MAX_RATIO = 50      # inflation of a compressed storage entry (torch never compresses them)
_MAX_NESTING = 64    # nested dicts in a state dict (torchvision's: 1)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError,
               OSError, ValueError, struct.error, KeyError, OverflowError)


class _BadPickle(Exception):
    """Raised by the stand-ins; reported as UnsafePickleError naming the file."""


class _NoBuild:
    """A BUILD opcode on a stand-in would set its slots to anything, bypassing the checks in
    its constructor: refuse it (torch never BUILDs a tensor or a storage)."""
    __slots__ = ()

    def __setstate__(self, state):
        raise _BadPickle(f"BUILD state on a {type(self).__name__.strip('_')} (only dicts are "
                         f"BUILT in a state dict)")


class _StorageType(_NoBuild):
    """Stands in for ``torch.FloatStorage`` and friends: only its dtype is ever used."""
    __slots__ = ("name", "dtype")

    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage(_NoBuild):
    """One storage: its type, key and declared element count; ``array`` is read last."""
    __slots__ = ("kind", "key", "numel", "array")

    def __init__(self, kind, key, numel):
        if type(numel) is not int or numel < 0:
            raise _BadPickle(f"storage '{key}' declares {numel!r:.40} elements")
        self.kind, self.key, self.numel, self.array = kind, key, numel, None


class _RebuiltTensor(_NoBuild):
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
        return self._load_storage(pid[1], pid[2], pid[4])


def _unpickle(file, path: str, load_storage):
    """Load one pickle from ``file`` (left just after it), with errors naming ``path``; its
    opcodes are walked first (``check_pickle``)."""
    start = file.tell()
    check_pickle(file, f"'{path}'")
    file.seek(start)
    try:
        return _RestrictedUnpickler(file, path, load_storage).load()
    except (UnsafePickleError, CorruptFileError):
        raise
    except _BadPickle as e:
        raise UnsafePickleError(f"'{path}': {e}") from None
    except Exception as e:  # a malformed pickle fails in many ways; all are "damaged file"
        raise CorruptFileError(f"'{path}': damaged pickle ({type(e).__name__}: {e})") from None


def _native(arr: np.ndarray, big_endian: bool) -> np.ndarray:
    if not big_endian:
        return arr
    return arr.view(arr.dtype.newbyteorder(">")).astype(arr.dtype)


def _read_entry(z, info, arr: np.ndarray, where: str) -> None:
    """Fill ``arr`` from the zip entry ``info`` in bounded chunks (never more than it holds)."""
    view = memoryview(arr.reshape(-1).view(np.uint8))
    with z.open(info) as f:
        done = 0
        while done < len(view):
            n = f.readinto(view[done:done + _CHUNK])
            if not n:
                raise CorruptFileError(f"{where}: truncated: {done} of {len(view)} bytes")
            done += n


def _zip_storage_reader(z, prefix, names, path, big_endian):
    def read(storage, needed):
        entry = f"{prefix}data/{storage.key}"
        if entry not in names:
            raise CorruptFileError(f"'{path}': storage '{storage.key}' is missing from the zip")
        info = z.getinfo(entry)
        itemsize = storage.kind.dtype.itemsize
        if info.file_size != storage.numel * itemsize:
            raise CorruptFileError(f"'{path}' {entry}: holds {info.file_size} bytes, but the "
                                   f"pickle declares {storage.numel} {storage.kind.name} "
                                   f"elements ({storage.numel * itemsize} bytes)")
        want = needed * itemsize
        if info.compress_type != zipfile.ZIP_STORED and want > _CHUNK \
                and want > _MAX_RATIO * info.compress_size:
            raise CorruptFileError(f"'{path}' {entry}: {info.compress_size} compressed bytes "
                                   f"would inflate to {want} (more than {_MAX_RATIO}:1, a "
                                   f"zip bomb?)")
        arr = np.empty(needed, dtype=storage.kind.dtype)
        with _zip_damage(path):
            _read_entry(z, info, arr, f"'{path}' {entry}")
        return _native(arr, big_endian)
    return read


@contextlib.contextmanager
def _zip_damage(path):
    """zipfile and zlib fail in many ways on a damaged archive: one CorruptFileError."""
    try:
        yield
    except CorruptFileError:
        raise
    except _ZIP_ERRORS as e:
        raise CorruptFileError(f"'{path}': damaged zip archive ({type(e).__name__}: "
                               f"{str(e)[:200]})") from None


def _read_zip(path: str, check):
    with _zip_damage(path):
        z = zipfile.ZipFile(path)
    with z:
        with _zip_damage(path):
            pickles = [n for n in z.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
            if len(pickles) != 1:
                raise CorruptFileError(f"'{path}': not a PyTorch file: no <name>/data.pkl in "
                                       f"the zip")
            prefix = pickles[0][: -len("data.pkl")]
            names = set(z.namelist())
            big_endian = (prefix + "byteorder" in names
                          and z.getinfo(prefix + "byteorder").file_size < 16
                          and z.read(prefix + "byteorder").strip() == b"big")
            info = z.getinfo(pickles[0])
            if info.file_size > MAX_PICKLE_BYTES:
                raise CorruptFileError(f"'{path}': data.pkl declares {info.file_size} bytes, "
                                       f"more than a state dict's pickle ({MAX_PICKLE_BYTES})")
            with z.open(info) as f:
                pickled = io.BytesIO(f.read(MAX_PICKLE_BYTES))
        storages = {}

        def declare_storage(storage_type, key, numel):
            storage = storages.setdefault(key, _Storage(storage_type, key, numel))
            if storage.numel != numel or storage.kind.name != storage_type.name:
                raise CorruptFileError(f"'{path}': storage '{key}' declared twice, differently")
            return storage

        obj = _unpickle(pickled, path, declare_storage)
        return _tensors(obj, path, check, _zip_storage_reader(z, prefix, names, path,
                                                                big_endian))


def _read_legacy(path: str, data: bytes, check):
    """The pre-1.6 format: magic, protocol, sys_info pickles; the object; its storage keys;
    then each storage as an int64 element count followed by its bytes."""
    f = io.BytesIO(data)
    storages = {}

    def no_storage(storage_type, key, numel):
        raise UnsafePickleError(f"'{path}': storage reference outside the main pickle")

    def declare_storage(storage_type, key, numel):
        return storages.setdefault(key, _Storage(storage_type, key, numel))

    if _unpickle(f, path, no_storage) != _LEGACY_MAGIC:
        raise CorruptFileError(f"'{path}': not a PyTorch file (bad magic number)")
    _unpickle(f, path, no_storage)  # protocol version
    sys_info = _unpickle(f, path, no_storage)
    big_endian = isinstance(sys_info, dict) and not sys_info.get("little_endian", True)
    obj = _unpickle(f, path, declare_storage)
    keys = _unpickle(f, path, no_storage)
    if not isinstance(keys, list) or set(keys) != set(storages) or len(keys) != len(storages):
        raise CorruptFileError(f"'{path}': storage list does not match the tensors")
    spans = {}
    for key in keys:   # locate every storage first: its bytes are already in ``data``
        storage = storages[key]
        header = f.read(8)
        if len(header) != 8:
            raise CorruptFileError(f"'{path}': truncated (storage '{key}' missing)")
        count = struct.unpack("<q", header)[0]
        size = count * storage.kind.dtype.itemsize
        if count != storage.numel or len(data) - f.tell() < size:
            raise CorruptFileError(f"'{path}': storage '{key}' is short or not the "
                                   f"{storage.numel} elements its tensors declare")
        spans[key] = f.tell()
        f.seek(size, io.SEEK_CUR)

    def read(storage, needed):
        arr = np.frombuffer(data, dtype=storage.kind.dtype, count=needed,
                            offset=spans[storage.key])
        return _native(arr, big_endian)
    return _tensors(obj, path, check, read)


def _flatten(obj, path: str) -> dict:
    """{dotted name: _RebuiltTensor} of a (nested) dict, iteratively, nesting bounded."""
    if not isinstance(obj, dict):
        raise CorruptFileError(f"'{path}': expected a state dict (a dict of tensors), found "
                               f"{type(obj).__name__}")

    def branch(value, name):
        if isinstance(value, _RebuiltTensor):
            return None
        if isinstance(value, dict):
            return value.items()
        raise CorruptFileError(f"'{path}': entry '{name[:80]}' is a {type(value).__name__}, "
                               f"not a tensor; a state dict holds only tensors")

    def too_deep(name):
        raise CorruptFileError(f"'{path}': dicts nested deeper than {_MAX_NESTING} levels at "
                               f"'{name[:60]}...'")

    return collections.OrderedDict(dotted_leaves(obj.items(), branch, _MAX_NESTING, too_deep))


def _materialise(t: _RebuiltTensor, flat: np.ndarray) -> np.ndarray:
    if any(n == 0 for n in t.size):
        return np.zeros(t.size, dtype=flat.dtype)
    view = np.lib.stride_tricks.as_strided(
        flat[t.offset:], shape=t.size, strides=[s * flat.itemsize for s in t.stride])
    arr = np.array(view, order="C")  # copy: detach from the file buffer and the strides
    if t.storage.kind.name == "BFloat16Storage":  # bfloat16 is the top half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _tensors(obj, path, check, read_storage) -> dict:
    """Geometry of every tensor checked, then ``check`` (names and shapes), then the data."""
    tensors = _flatten(obj, path)
    needed = {}
    for name, t in tensors.items():
        reach = check_geometry(t.offset, t.size, t.stride, t.storage.numel,
                               f"'{path}' entry '{name}'")
        needed[t.storage.key] = max(needed.get(t.storage.key, 0), reach)
    if check is not None:
        check({name: t.size for name, t in tensors.items()})
    arrays = {}
    out = collections.OrderedDict()
    for name, t in tensors.items():
        key = t.storage.key
        if key not in arrays:
            arrays[key] = read_storage(t.storage, needed[key])
        out[name] = _materialise(t, arrays[key])
    return out


def read_pth(path, check=None) -> dict:
    """The state dict in a PyTorch ``.pth``/``.pt`` file as ``{dotted name: np.ndarray}``.

    Arrays keep the file's dtypes (bfloat16, which numpy lacks, becomes float32). Nested dicts
    are flattened with dots. Only tensors and dicts are accepted: any other pickled global is
    refused with ``UnsafePickleError`` before anything runs. ``check``, if given, is called
    with ``{name: shape}`` before any tensor data is read (to refuse a file that does not hold
    the expected model before reading it).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"'{path}' is a directory, not a file")
    if zipfile.is_zipfile(path):
        return _read_zip(path, check)
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"\x80"):
        raise CorruptFileError(f"'{path}': not a PyTorch file (neither a zip nor a pickle)")
    return _read_legacy(path, data, check)
