"""The frozen prefix as a stage of its own, cached per (sample, view): ``train.feature_cache``.

At the start of every epoch the trainer asks for the longest frozen prefix of the network
(``prefix_cache.frozen_prefix``: conv1..layer3 when those are frozen). Its output for a sample
depends only on the sample's augmented input, so it is computed the first time a (sample, view)
is drawn and reused whenever the same view comes again; the rest of the network trains on the
stored rows, gathered in the epoch's batch order.

Views. A finite augmentation (flip, pad-and-crop offsets) names each sample's outcome before any
pixel moves: the dataset replays the draws of that sample's (seed, epoch, position) generator
(``view_keys``), exactly the draws the DataLoader's batch would make, so the cached run sees the
same augmented inputs as the uncached one. When a sample has few views (``WHOLE_VIEW_SET``:
a flip's two), all of them are computed the first time it is drawn (``dataset.get_views``:
the file decoded once, each view bitwise the image its draw makes), so from epoch 2 on the run
is pure training; a larger set (pad-and-crop offsets) computes each view when it is first
drawn. A continuous augmentation (RandomResizedCrop,
ColorJitter, RandomRotation) has no finite set of views: the cache is off, and says why.

Bitwise equality. A convolution's sums depend on the batch around a sample (its size and the
sample's place in it), not on the other samples' values. So the prefix always runs in the same
*chunks*: for deterministic data the fixed dataset chunks of ``batch_size`` positions (0..B-1,
B..2B-1, ...), for augmented data each (sample, view) alone (a chunk of 1, about as fast at
224 px: each image's GEMMs are large), whether it is computed on its draw or with its sample's
other views. ``auto`` keeps the rows; ``off`` recomputes them in every epoch in
the same chunks (keeping them for that epoch only): the two runs are bitwise the same. A run whose prefix is empty (conv1 trains)
trains the whole model batch by batch, as usual.

Memory: rows stay in memory up to ``train.feature_cache_memory_mb``; past it they move to a
memory-mapped file in ``train.feature_cache_dir`` (default ``<output.dir>/cache``: it lives and
goes with the run, a resume finds it, nothing accumulates in a hidden global folder), keyed by
content hashes (``cache_store.py``). Validation data are not augmented and run in eval mode in
the same order every epoch: their rows are kept per validation batch, in memory.
"""
import json
import os

import numpy as np

from minitorch.autograd.grad_mode import no_grad
from minitorch.data.fetch import SampleRngs
from minitorch.ops import conv as conv_ops
from minitorch.tensor import Tensor

from .cache_store import FileStore, MemoryStore, content_key, data_digest, entry_name
from .memory_budget import format_bytes
from .prefix_cache import frozen_prefix, run_children, suffix_names

__all__ = ["FeatureCache", "feature_cache_status", "frozen_prefix", "WHOLE_VIEW_SET"]

# A sample with at most this many views (a flip: 2; a flip and two crop offsets: 4) has all of
# them computed the first time it is drawn, so later epochs draw nothing new; larger sets
# (pad-and-crop: 81 offsets for padding 4) compute each view when it is first drawn.
WHOLE_VIEW_SET = 4
# Images per view chunk: VIEW_CHUNK // views consecutive samples, all their views, in one
# prefix batch. At 224 px a batch of 8 costs ~30% less CPU per image than one image at a time
# (0.065 s vs 0.092 s conv1..layer3, measured side by side); the chunk is fixed by position,
# so recomputing it (cache off, a lost file) gives the same bits.
VIEW_CHUNK = 8


def _base(dataset):
    """The dataset under any Subsets (the one that knows its transform)."""
    while hasattr(dataset, "indices") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    return dataset


def feature_cache_status(config, model, train_set):
    """(usable, reason): can this run split off a frozen prefix at all? (Whether one is frozen
    is decided per epoch.)"""
    base = _base(train_set)
    if not frozen_prefix(model) and not any(not p.requires_grad for p in model.parameters()):
        return False, "off (nothing is frozen)"
    if not hasattr(train_set, "get_batch") or not hasattr(base, "view_keys"):
        return False, f"off ({type(base).__name__} cannot name its augmentation views)"
    reason = getattr(base, "augment_continuous", None)
    if reason:
        return False, f"off ({reason}: no finite set of views to cache)"
    return True, None


def _transform_of(dataset):
    """Everything that turns a stored sample into the network's input, for the content key."""
    base = _base(dataset)
    if hasattr(base, "transform"):
        return base.transform
    return (getattr(base, "augment", None), getattr(base, "normalize", None))


def _describe(prefix):
    return prefix[0] if len(prefix) == 1 else f"{prefix[0]}..{prefix[-1]}"


class FeatureCache:
    """The frozen-prefix stage of one run (see the module docstring)."""

    def __init__(self, model, plan, dataset, batch_size, seed, *, reuse=True, memory_mb=1024.0,
                 folder=None, name_suffix="", epochs=1, say=print):
        self.model, self.plan, self.dataset = model, plan, dataset
        self.seed, self.reuse, self.say = int(seed), bool(reuse), say
        self.is_random = bool(getattr(dataset, "is_random", False))
        # fixed chunks for deterministic data; one sample per chunk when views vary
        self.chunk = 1 if self.is_random else int(batch_size)
        self.budget = int(float(memory_mb) * 1e6)
        self.folder, self.name_suffix, self.epochs = folder, name_suffix, int(epochs)
        self.targets = np.asarray(getattr(dataset, "targets"), dtype=np.int64)
        self.prefix, self.store, self._val, self._data_digest = [], None, None, None
        self._looked = False          # looked for an existing file of this prefix
        self.recompute_only = False   # the file store failed: recompute (said once)
        self.computed = 0             # prefix evaluations (chunks), for tests and notes
        # small view sets: views per sample and samples per view chunk (set on first use)
        self.views_per_sample, self.view_group = None, None

    @property
    def active(self):
        return bool(self.prefix)

    def note(self):
        """One line for the run summary."""
        prefix = frozen_prefix(self.model, self.plan.frozen_bn)
        if not prefix:
            return "off (conv1 trains: no frozen prefix)"
        views = "per (sample, view)" if self.is_random else "per sample"
        if self._view_set(0) is not None:
            views += ", every view of a sample on its first draw,"
        if not self.reuse:
            return (f"off: the frozen prefix {_describe(prefix)} runs as its own stage in "
                    f"every epoch")
        rest = suffix_names(prefix)
        return (f"on: the frozen prefix {_describe(prefix)} is computed once {views} and "
                f"reused; {', '.join(rest)} train{'s' if len(rest) == 1 else ''} on it")

    # ----- epoch boundaries (called from the trainer's hooks) --------------------------------

    def start_epoch(self, epoch, prefix):
        """Take this epoch's frozen prefix; rows of another prefix are dropped (a shorter
        prefix's output cannot be derived from a longer one's)."""
        self.epoch = int(epoch)
        if prefix != self.prefix:
            if self.prefix:
                self.say(f"feature cache: the frozen prefix is now "
                         f"{_describe(prefix) if prefix else 'empty'} (was "
                         f"{_describe(self.prefix)}): "
                         f"{'recomputing its outputs' if prefix else 'training the whole model'}")
            self._drop()
            self.prefix = list(prefix)
        elif self._per_epoch:
            self._drop()

    @property
    def _per_epoch(self):
        """``off``, or the file store failed: rows are kept for the epoch only."""
        return not self.reuse or self.recompute_only

    def end_epoch(self):
        if self.store is not None:
            try:
                self.store.sync()
            except OSError as exc:
                self._write_failed(exc)

    def close(self):
        self._drop()

    def _drop(self):
        if self.store is not None:
            try:
                self.store.close()
            except OSError as exc:   # the rows are lost; the run's results are not
                self._write_failed(exc, drop=False)
        self.store, self._val, self._looked = None, None, False

    def _write_failed(self, exc, drop=True):
        """The file store failed mid-run (disk full, folder gone): say so once, then recompute
        the prefix every epoch, as for a folder that cannot be written at all. Recomputed rows
        are the same chunks', so the run stays bitwise the same."""
        if not self.recompute_only:
            self.say(f"feature cache: cannot write {self.folder} ({exc.strerror or exc}): "
                     f"the frozen prefix is recomputed every epoch")
        self.recompute_only = True
        if drop and self.store is not None:
            store, self.store = self.store, None
            try:
                store.close()
            except OSError:
                pass   # already said: the file is abandoned

    # ----- the stage -------------------------------------------------------------------------

    def _prefix_rows(self, x):
        # a row is computed once: ops.conv.forward_once's kernels compile in half the time
        with no_grad(), conv_ops.forward_once():
            return np.ascontiguousarray(run_children(self.model, self.prefix,
                                                     Tensor._new(np.ascontiguousarray(x)))._data)

    def suffix(self, x):
        """The trainable rest of the network on prefix rows (builds the graph as usual)."""
        return run_children(self.model, suffix_names(self.prefix), x)

    def _entries(self, positions):
        keys = self.dataset.view_keys(positions, SampleRngs(self.seed, self.epoch, positions)) \
            if self.is_random else [()] * len(positions)
        return [entry_name(p, k) for p, k in zip(positions, keys)]

    def _compute_chunk(self, k):
        n = len(self.dataset)
        positions = np.arange(k * self.chunk, min((k + 1) * self.chunk, n), dtype=np.int64)
        # the batch the DataLoader would make: same generators, same augmented pixels
        x, _ = self.dataset.get_batch(positions, SampleRngs(self.seed, self.epoch, positions))
        rows = self._prefix_rows(x)
        self.computed += 1
        return self._entries(positions), rows

    def _view_set(self, position):
        """Every view key of ``position`` when there are at most ``WHOLE_VIEW_SET`` (computed
        together, in its view chunk), else None."""
        if not self.is_random or not hasattr(self.dataset, "views"):
            return None
        return self.dataset.views(position, WHOLE_VIEW_SET)

    def _view_block(self, position):
        """The view chunk ``position`` belongs to: a fixed block of consecutive positions
        (``view_group`` of them), all their views together; None for a large view set."""
        keys = self._view_set(position)
        if keys is None:
            return None
        if self.view_group is None:   # from position 0, so fixed whatever is drawn first
            first = self._view_set(0)
            self.views_per_sample = len(first) if first is not None else WHOLE_VIEW_SET
            self.view_group = max(1, VIEW_CHUNK // self.views_per_sample)
        return int(position) // self.view_group

    def _compute_view_chunk(self, block):
        """[(entry, row)] of view chunk ``block``: each sample of the block under each of its
        views (the file decoded once, ``dataset.get_views``), one prefix batch in that fixed
        order, whichever sample was drawn."""
        n = len(self.dataset)
        entries, images = [], []
        for q in range(block * self.view_group, min((block + 1) * self.view_group, n)):
            keys = self._view_set(q)
            if keys is None:
                continue   # a sample of another size with a large set: its own chunks
            images.append(self.dataset.get_views(q, keys))
            entries += [entry_name(q, key) for key in keys]
        rows = self._prefix_rows(np.concatenate(images))
        self.computed += 1
        return list(zip(entries, rows))

    def rows(self, positions):
        """The prefix rows of ``positions`` under this epoch's views (computing what is
        missing, chunk by chunk)."""
        positions = np.asarray(positions, dtype=np.int64)
        wanted = self._entries(positions)
        if self.store is None and not self._per_epoch and not self._looked:
            self._looked = True   # a file left by an earlier run of this prefix (a resume)
            self.store = self._open_file(None, announce=False)
        # the stored rows are taken first (views): computing the rest may move the store to a
        # file, or drop it when the file cannot be written
        have = {} if self.store is None else \
            {e: self.store.row(e) for e in wanted if e in self.store}
        blocks = {self._view_block(p) for p, e in zip(positions, wanted) if e not in have}
        for block in sorted(blocks - {None}):
            for entry, row in self._compute_view_chunk(block):
                have.setdefault(entry, row)
                self._keep(entry, row)
        for k in sorted({int(p) // self.chunk for p, e in zip(positions, wanted)
                         if e not in have}):
            entries, rows = self._compute_chunk(k)
            for entry, row in zip(entries, rows):
                have.setdefault(entry, row)
                self._keep(entry, row)
        return np.stack([have[e] for e in wanted])

    def batches(self, indices_per_batch):
        """(prefix rows Tensor, targets Tensor) for each batch of dataset positions."""
        for idx in indices_per_batch:
            yield Tensor._new(self.rows(idx)), Tensor._new(self.targets[np.asarray(idx, dtype=np.int64)])

    def val_batches(self, loader):
        """(prefix rows Tensor, targets Tensor) per validation batch, in the loader's order."""
        if self._val is None or not self.reuse:
            self._val = [(self._prefix_rows(x._data), np.asarray(y._data)) for x, y in loader]
        for rows, targets in self._val:
            yield Tensor._new(rows), Tensor._new(targets)

    # ----- storage ---------------------------------------------------------------------------

    def _keep(self, entry, row):
        if self._per_epoch:   # rows live for one epoch (each chunk computed once in it)
            self.store = self.store or MemoryStore(row.shape)
            self.store.add(entry, row)
            return
        if self.store is None:
            # blocks no larger than the budget allows (a 224-px layer1 row is 0.8 MB)
            self.store = MemoryStore(row.shape, max(1, min(64, self.budget // row.nbytes)))
        if self.store.kind == "memory" and self.store.nbytes + row.nbytes > self.budget:
            self._spill(row)
            if self.store is None:
                return
        try:
            self.store.add(entry, row)
        except OSError as exc:
            self._write_failed(exc)
            self._keep(entry, row)   # now for this epoch only, in memory

    def _capacity(self):
        """The rows the rest of the run can add (the file's first size; it grows if need be):
        each sample once per remaining epoch (this one included), or once for fixed data."""
        views = self.views_per_sample or \
            (max(1, self.epochs - self.epoch + 1) if self.is_random else 1)
        return len(self.dataset) * views

    def _file_name(self):
        return f"prefix-{self.prefix[-1]}-{self._digest()[:16]}{self.name_suffix}"

    def _digest(self):
        if self._data_digest is None:
            self._data_digest = data_digest(self.dataset)
        return self._data_digest

    def _open_file(self, row_shape, announce=True, held=0):
        """The file store for this prefix: an existing matching file is reused (a resumed
        run), a stale one rebuilt. None when ``announce`` is False and there is no file yet
        (``row_shape`` None: take it from the file), or when the folder cannot be written
        (then rows are recomputed, as said). ``held``: rows that will be moved in."""
        if self.folder is None:
            return None
        name = self._file_name()
        index = os.path.join(self.folder, name + ".json")
        if row_shape is None:
            try:
                with open(index, encoding="utf-8") as f:
                    row_shape = tuple(json.load(f)["row_shape"])
            except (OSError, ValueError, KeyError, TypeError):
                return None   # no file (or no readable one): start in memory
        chunks = f"{self.chunk};views={WHOLE_VIEW_SET}x{VIEW_CHUNK}"
        key = content_key(self.model, self.prefix, self.dataset, _transform_of(self.dataset),
                          chunks, data=self._digest())
        try:
            return FileStore(self.folder, name, row_shape, self._capacity() + held, key,
                             self.say)
        except OSError as exc:
            self.recompute_only = True
            self.say(f"feature cache: cannot write {self.folder} "
                     f"({exc.strerror or exc}): the frozen prefix is recomputed every epoch")
            return None

    def _spill(self, row):
        """The memory budget is full: move the rows to a memory-mapped file."""
        memory = self.store
        need = format_bytes(self._capacity() * row.nbytes)
        self.say(f"feature cache: train.feature_cache_memory_mb "
                 f"{self.budget / 1e6:g} MB holds {memory.nbytes // row.nbytes} row(s) of "
                 f"{format_bytes(row.nbytes)} (up to {need} needed): memory-mapped file in "
                 f"{self.folder}")
        self.store = self._open_file(row.shape, held=len(memory.slots))
        if self.store is not None:
            try:
                for entry in list(memory.slots):
                    self.store.add(entry, memory.row(entry))
            except OSError as exc:
                self._write_failed(exc)
        memory.close()
