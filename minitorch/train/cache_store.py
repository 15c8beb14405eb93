"""Where cached prefix outputs live: rows in memory, or rows of a memory-mapped file.

An *entry* is one (sample position, augmentation view) and its row is the frozen prefix's output
for that input, all rows of one shape. ``MemoryStore`` keeps rows in blocks allocated as they
fill; ``FileStore`` keeps them in ``<folder>/<name>.bin`` (a memory-mapped float32 array, sparse
on disk until written) with an index ``<name>.json`` that records which entry sits in which row
and the *content key* the rows were computed under.

The content key (``content_key``) hashes everything a row's bits depend on: the prefix's
weights and buffers and its structure, the data (the samples' bytes, the split), the transform,
and how the prefix is computed (chunk size, thread counts, library versions). A file is named by
the prefix and the data alone, so the same data with other weights finds the old file, sees the
key differ, says which part differs and rebuilds it: a row is never served for anything else.
The index is rewritten (atomically, after the rows are flushed) at the end of every epoch, so a
run killed mid-epoch resumes with every row the index lists intact.
"""
import hashlib
import json
import os

import numpy as np

from minitorch.io import atomic_write_text

__all__ = ["MemoryStore", "FileStore", "content_key", "data_digest", "entry_name"]

_FORMAT = "minitorch.prefix_cache"
_VERSION = 1


def entry_name(position, view):
    """The stable text form of an entry (the index's key)."""
    return repr((int(position), view))


class MemoryStore:
    """Rows in memory, in blocks of ``block_rows`` allocated on demand."""

    kind = "memory"

    def __init__(self, row_shape, block_rows=64):
        self.row_shape, self.block_rows = tuple(row_shape), max(1, int(block_rows))
        self.row_bytes = int(np.prod(self.row_shape)) * 4
        self.slots, self._blocks = {}, []

    @property
    def nbytes(self):
        return len(self.slots) * self.row_bytes

    def __contains__(self, entry):
        return entry in self.slots

    def add(self, entry, row):
        slot = self.slots.setdefault(entry, len(self.slots))
        block, offset = divmod(slot, self.block_rows)
        while len(self._blocks) <= block:
            self._blocks.append(np.empty((self.block_rows,) + self.row_shape, np.float32))
        self._blocks[block][offset] = row

    def row(self, entry):
        block, offset = divmod(self.slots[entry], self.block_rows)
        return self._blocks[block][offset]

    def read(self, entries):
        """The rows of ``entries``, stacked (a new array)."""
        return np.stack([self.row(e) for e in entries])

    def sync(self):
        """Nothing to persist in memory."""

    def close(self):
        self._blocks, self.slots = [], {}


class FileStore(MemoryStore):
    """Rows in a memory-mapped file sized for ``capacity`` rows at first, extended when full
    (see the module docstring).

    ``say(text)`` reports reuse and rebuilds. Raises OSError when the folder or file cannot be
    created or written (the caller falls back, saying so)."""

    kind = "file"

    def __init__(self, folder, name, row_shape, capacity, key, say=print):
        super().__init__(row_shape)
        self.path = os.path.join(folder, name + ".bin")
        self.index_path = os.path.join(folder, name + ".json")
        self.key, self.capacity = dict(key), int(capacity)
        os.makedirs(folder, exist_ok=True)
        old = self._read_index()
        if old is not None and self._reusable(old, say):
            self.capacity, self.slots = int(old["capacity"]), dict(old["slots"])
            self._rows = np.memmap(self.path, np.float32, "r+",
                                   shape=(self.capacity,) + self.row_shape)
            say(f"feature cache: reusing {len(self.slots)} rows of {self.path}")
        else:
            self._rows = np.memmap(self.path, np.float32, "w+",
                                   shape=(self.capacity,) + self.row_shape)
            self.sync()

    def _read_index(self):
        try:
            with open(self.index_path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}   # unreadable: rebuilt below

    def _reusable(self, old, say):
        """Whether the file on disk holds rows computed under this key (else say why not)."""
        if old.get("format") != _FORMAT or old.get("version") != _VERSION \
                or not isinstance(old.get("slots"), dict):
            say(f"feature cache: {self.index_path} is not a readable cache index: rebuilding")
            return False
        differ = sorted(k for k in set(old.get("key", {})) | set(self.key)
                        if old.get("key", {}).get(k) != self.key.get(k))
        if differ:
            say(f"feature cache: {self.path} was built for other {', '.join(differ)} "
                f"(stale): rebuilding")
            return False
        size = os.path.getsize(self.path) if os.path.isfile(self.path) else -1
        rows = int(old.get("capacity", -1))
        if list(old.get("row_shape", [])) != list(self.row_shape) \
                or size != rows * self.row_bytes or len(old["slots"]) > rows:
            say(f"feature cache: {self.path} does not match its index: rebuilding")
            return False
        return True

    def add(self, entry, row):
        if entry not in self.slots and len(self.slots) >= self.capacity:
            self._grow(max(self.capacity * 2, 1))
        slot = self.slots.setdefault(entry, len(self.slots))
        self._rows[slot] = row

    def _grow(self, capacity):
        """Room for ``capacity`` rows: the file is extended (sparsely) and mapped again."""
        self._rows.flush()
        del self._rows
        with open(self.path, "r+b") as f:
            f.truncate(capacity * self.row_bytes)
        self.capacity = capacity
        self._rows = np.memmap(self.path, np.float32, "r+",
                               shape=(self.capacity,) + self.row_shape)

    def row(self, entry):
        return self._rows[self.slots[entry]]

    def sync(self):
        """Flush the rows, then record them in the index (atomically)."""
        self._rows.flush()
        atomic_write_text(self.index_path, json.dumps(
            {"format": _FORMAT, "version": _VERSION, "key": self.key,
             "row_shape": list(self.row_shape), "capacity": self.capacity,
             "slots": self.slots}))

    def close(self):
        self.sync()
        del self._rows
        self.slots = {}


def _hash_arrays(h, named):
    for name, array in named:
        a = np.ascontiguousarray(array)
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())


def data_digest(dataset):
    """A hash of the samples a dataset serves, by content: the pixels (or image files' bytes),
    the labels and, through Subsets, which samples are in the split."""
    h = hashlib.sha256()
    while hasattr(dataset, "indices") and hasattr(dataset, "dataset"):   # Subset
        _hash_arrays(h, [("indices", dataset.indices)])
        dataset = dataset.dataset
    if hasattr(dataset, "samples"):   # ImageFolder: the files themselves
        for path, target in dataset.samples:
            h.update(f"{target};".encode())
            with open(path, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    elif hasattr(dataset, "images"):
        _hash_arrays(h, [("images", dataset.images)])
    h.update(np.asarray(getattr(dataset, "targets", []), dtype=np.int64).tobytes())
    return h.hexdigest()


def _threads():
    """The thread counts a sum's split (hence its rounding) depends on: numba's kernels and
    minitorch's product pool (numpy's BLAS runs one thread per call once the runtime is
    configured; other packages' BLAS copies, loaded later, are not used by numpy)."""
    import numba

    from minitorch.kernels import gemm
    return f"numba={numba.get_num_threads()},products={gemm.get_num_threads()}"


def content_key(model, prefix, dataset, transform, chunk, data=None):
    """{part: sha256 hex} for the rows of ``prefix`` over ``dataset`` (module docstring).

    ``data``: an already computed ``data_digest`` of the dataset."""
    import numba
    weights = hashlib.sha256()
    for name in prefix:
        module = getattr(model, name)
        weights.update(f"{name}={module!r};".encode())
        _hash_arrays(weights, [(k, v._data) for k, v in module.state_dict().items()])
    compute = f"chunk={chunk};{_threads()};numpy={np.__version__};numba={numba.__version__}"

    def digest(text):
        return hashlib.sha256(text.encode()).hexdigest()
    return {"weights": weights.hexdigest(), "data": data or data_digest(dataset),
            "transform": digest(repr(transform)), "computation": digest(compute)}
