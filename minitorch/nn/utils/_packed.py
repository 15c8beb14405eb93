"""``PackedSequence`` and the functions that make and undo one, with torch's fields and layout.

A packed batch keeps only the real time steps: ``data`` holds, for t = 0, 1, ..., the rows of
the sequences still running at step t (longest first), and ``batch_sizes[t]`` counts them. The
recurrent layers run it step by step on a shrinking batch, so padding is never computed on and
each sequence's last hidden state is its own (``nn.LSTM(packed)`` as in torch). Packing and
unpacking are index selections, so gradients flow through both.
"""
from collections import namedtuple

import numpy as np

from minitorch._ops_index import index_select
from minitorch._ops_shape import cat
from minitorch.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpack_sequence", "unpad_sequence", "invert_permutation"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                                   "unsorted_indices"])):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as ``torch.nn.utils.rnn``'s;
    the two index tensors are None when the batch came sorted (``enforce_sorted=True``)."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _apply(self, fn):
        return type(self)(fn(self.data), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def to(self, *args, **kwargs):
        """The data converted (dtype; the CPU is the only device); the indices stay int64."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._apply(lambda _: data)

    def float(self):
        return self._apply(lambda d: d.float())

    def double(self):
        return self._apply(lambda d: d.double())

    def cpu(self):
        return self

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation):
    """The inverse of an int64 permutation tensor (None stays None)."""
    if permutation is None:
        return None
    order = np.asarray(permutation._data, dtype=np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size, dtype=np.int64)
    return Tensor._new(inverse)


def _lengths_array(lengths, batch: int) -> np.ndarray:
    values = lengths._data if isinstance(lengths, Tensor) else lengths
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iu" and not (
            array.dtype.kind == "f" and np.all(array == np.round(array))):
        raise ValueError(f"lengths must be a 1-d list or tensor of integers, got {values!r}")
    array = array.astype(np.int64)
    if array.size != batch:
        raise ValueError(f"lengths has {array.size} entries for a batch of {batch} sequences")
    if array.size and array.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    return array


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """``batch_sizes[t]``: how many of the (descending) lengths exceed t."""
    steps = np.arange(int(sorted_lengths[0]) if sorted_lengths.size else 0)
    return (sorted_lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) whose sequence b
    has ``lengths[b]`` real steps. With ``enforce_sorted`` the lengths must be decreasing;
    otherwise the batch is sorted (longest first, ties in their order) and the permutation kept."""
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    lengths = _lengths_array(lengths, batch)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order, sorted_indices = np.arange(batch), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor._new(order.astype(np.int64))
    if lengths.size and lengths.max() > steps:
        raise ValueError(f"a length of {int(lengths.max())} is longer than the padded batch's "
                         f"{steps} steps")
    sizes = _batch_sizes(lengths[order])
    rows = np.concatenate([t * batch + order[:n] for t, n in enumerate(sizes)]) if sizes.size \
        else np.zeros(0, np.int64)
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = index_select(flat, 0, Tensor._new(rows.astype(np.int64)))
    return PackedSequence(data, Tensor._new(sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length=None):
    """Undo ``pack_padded_sequence``: ``(padded, lengths)``, the batch in its original order,
    ``padded`` ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) filled with ``padding_value``;
    ``total_length`` pads to that many steps."""
    data, sizes = sequence.data, np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    batch = int(sizes[0]) if sizes.size else 0
    steps = sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = int(total_length)
    # slot (t, b) of the sorted batch takes packed row offsets[t] + b, or the padding row
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if sizes.size else np.zeros(0)
    index = np.full((steps, batch), data.shape[0], dtype=np.int64)
    for t, n in enumerate(sizes):
        index[t, :n] = offsets[t] + np.arange(n)
    lengths = (index < data.shape[0]).sum(axis=0).astype(np.int64)
    if sequence.unsorted_indices is not None:
        unsorted = np.asarray(sequence.unsorted_indices._data, dtype=np.int64)
        index, lengths = index[:, unsorted], lengths[unsorted]
    pad = data.new_full((1, *data.shape[1:]), padding_value)
    padded = index_select(cat([data, pad], 0), 0, Tensor._new(index.reshape(-1)))
    padded = padded.reshape(steps, batch, *data.shape[1:])
    return (padded.transpose(0, 1) if batch_first else padded), Tensor._new(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True):
    """Pack a list of ``(L_i, *)`` tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    from .rnn import pad_sequence
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False):
    """The list of ``(L_i, *)`` tensors of a padded batch."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    values = lengths._data if isinstance(lengths, Tensor) else lengths
    return [padded_sequences[b, :int(n)] for b, n in enumerate(np.asarray(values))]


def unpack_sequence(packed_sequences):
    """The list of ``(L_i, *)`` tensors of a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
