"""Reading an HDF5 file that may be hostile: every size checked before anything is allocated.

HDF5 metadata can declare what the file does not hold. A 3 MB file may declare a 36 TiB dataset,
or a dataset with no storage at all whose every value is the fill value (h5py would allocate it
whole, then fill it); a compressed chunk can inflate a thousandfold; a virtual dataset or an
external link reads other files (and a missing source silently gives zeros); external storage
puts the bytes in a raw file beside it; a hard or soft link can make a group its own ancestor, so
that a walk never ends. ``ReadGuard`` refuses each of these with one line naming the entry, and
keeps the total a reader allocates within ``max_bytes`` (what the caller's model needs) when one
is given.

Rules, per dataset, before it is read:

* numeric dtypes only (plus the string datasets minitorch writes): no compound, enum-of-void,
  variable-length, reference or opaque types;
* not virtual, no external storage;
* unfiltered: the storage HDF5 allocated must hold every declared byte (no fill values);
* filtered (compressed): at most ``MAX_INFLATION`` times its stored size (deflate itself cannot
  pass about 1032:1, so only a crafted filter chain gets near);
* the running total of declared bytes stays within ``max_bytes``.

Per group: links must be hard or soft links that resolve inside the file, and a group may be
reached once only (a second path to it is a cycle or a diamond that would multiply the walk).
Attributes are checked against the file size before they are read.
"""
import math
import os

import h5py
import numpy as np

from .errors import CorruptFileError, NonFiniteError

__all__ = ["ReadGuard", "MAX_INFLATION", "MAX_DEPTH"]

MAX_INFLATION = 1100
MAX_DEPTH = 100          # nesting of groups in an object file (a checkpoint has 5)
_SMALL = 1 << 20         # compressed datasets below this are never a memory threat
_STRING_KINDS = ("str", "list", "tuple")


class ReadGuard:
    """Checks for one read of the file at ``path`` (see the module docstring)."""

    def __init__(self, path, max_bytes=None, allow_nonfinite=False):
        self.path = os.fspath(path)
        self.file_size = os.path.getsize(self.path)
        self.max_bytes = max_bytes
        self.allow_nonfinite = allow_nonfinite
        self.used = 0
        self._groups = set()

    def fail(self, key, what):
        raise CorruptFileError(f"'{self.path}': entry '{key}' {what}")

    # -- datasets ---------------------------------------------------------------------------

    def _declared_bytes(self, ds, key):
        if ds.shape is None:      # an empty (null dataspace) dataset: None in minitorch's files
            return 0
        count = math.prod(int(n) for n in ds.shape)
        if count >= 2**63:
            self.fail(key, f"declares {ds.shape} elements, more than any array can hold")
        itemsize = 16 if ds.dtype.kind == "O" else ds.dtype.itemsize   # vlen: heap pointers
        return count * itemsize

    def _check_dtype(self, ds, key, strings_ok):
        dtype = ds.dtype
        if dtype.kind in "biufc" and dtype.fields is None:
            return
        if strings_ok and (h5py.check_string_dtype(dtype) is not None or dtype.kind == "S"):
            return
        self.fail(key, f"has dtype {dtype} (compound, variable-length, reference or opaque); "
                       f"a minitorch file holds numbers and strings only")

    def check_dataset(self, ds, key, strings_ok=False):
        """Raise unless ``ds`` may be read whole; counts its bytes against ``max_bytes``."""
        if ds.is_virtual:
            self.fail(key, "is a virtual dataset (it reads other files, and gives zeros where "
                           "they are missing): refused")
        if ds.external:
            names = ", ".join(str(e[0]) for e in ds.external)
            self.fail(key, f"keeps its data in external file(s) {names}: refused")
        self._check_dtype(ds, key, strings_ok)
        declared = self._declared_bytes(ds, key)
        if declared == 0:
            return
        stored = ds.id.get_storage_size()
        filtered = ds.id.get_create_plist().get_nfilters() > 0
        if not filtered and stored < declared:
            self.fail(key, f"declares {declared} bytes ({ds.shape} {ds.dtype}) but the file "
                           f"stores {stored}: its values would be fill values, not data")
        if filtered and declared > _SMALL and declared > MAX_INFLATION * stored:
            self.fail(key, f"declares {declared} bytes compressed into {stored}, more than "
                           f"{MAX_INFLATION}:1 (a decompression bomb?)")
        self.used += declared
        if self.max_bytes is not None and self.used > self.max_bytes:
            self.fail(key, f"takes the data read past {self.max_bytes} bytes, more than the "
                           f"model needs (the file declares too much)")

    def read_array(self, ds, key):
        """The whole numeric dataset ``ds`` as an ndarray, after the checks."""
        self.check_dataset(ds, key)
        return ds[...]

    def check_finite(self, arr, key):
        if self.allow_nonfinite or arr.dtype.kind not in "fc" or np.isfinite(arr).all():
            return
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"'{self.path}': tensor '{key}' holds NaN or Inf ({bad} of "
                             f"{arr.size} values); pass allow_nonfinite=True to load it anyway")

    # -- groups and links -------------------------------------------------------------------

    def _enter(self, group, key):
        info = h5py.h5o.get_info(group.id)
        ident = (info.fileno, info.addr)
        if ident in self._groups:
            self.fail(key, "is a group reached a second time (a hard or soft link back to "
                           "it): a link cycle")
        self._groups.add(ident)

    def items(self, group, prefix, sep="."):
        """(name, node) of each child of ``group``, links checked; ``prefix`` names the group
        in errors (children are named ``prefix + sep + name``)."""
        self._enter(group, prefix or "/")
        for name in group:
            key = f"{prefix.rstrip(sep)}{sep}{name}" if prefix else name
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                self.fail(key, f"is an external link to '{link.filename}:{link.path}': "
                               f"refused (it would read another file)")
            try:
                node = group[name]
            except KeyError:
                if isinstance(link, h5py.SoftLink):
                    self.fail(key, f"is a dangling link to '{link.path}': nothing is there")
                self.fail(key, "cannot be opened: damaged HDF5 file (its object header)")
            yield name, node

    # -- attributes ---------------------------------------------------------------------------

    def attr(self, obj, name, default=None):
        """The attribute ``name`` of ``obj`` (or ``default``), its size checked first."""
        if name not in obj.attrs:
            return default
        aid = h5py.h5a.open(obj.id, name.encode())
        shape = aid.shape or ()
        itemsize = 16 if aid.dtype.kind == "O" else aid.dtype.itemsize
        declared = math.prod(int(n) for n in shape) * itemsize
        if declared > self.file_size:
            where = obj.name if obj.name != "/" else "the root"
            raise CorruptFileError(f"'{self.path}': attribute '{name}' of {where} declares "
                                   f"{declared} bytes, more than the whole file")
        vlen = h5py.check_vlen_dtype(aid.dtype)
        if aid.dtype.kind == "V" or (vlen is not None and vlen not in (str, bytes)):
            raise CorruptFileError(f"'{self.path}': attribute '{name}' has dtype {aid.dtype}: "
                                   f"refused")
        return obj.attrs[name]
