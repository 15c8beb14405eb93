"""``nn.utils.rnn``: sequences of different lengths as one padded batch (``pad_sequence``) or
packed (``PackedSequence``, ``pack_padded_sequence``, ... in ``_packed.py``).

Built from differentiable ops (pad, stack, index_select), so gradients reach every sequence.
"""
import minitorch.nn.functional as F
from minitorch._ops_shape import stack

from ._packed import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,
                      pad_packed_sequence, unpack_sequence, unpad_sequence)

__all__ = ["pad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence", "unpad_sequence", "invert_permutation"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right"):
    """Stack tensors of shape ``(L_i, *)`` into ``(L_max, B, *)`` (``(B, L_max, *)`` when
    ``batch_first``), filling with ``padding_value`` on the ``padding_side``."""
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    trailing = sequences[0].shape[1:]
    for s in sequences[1:]:
        if s.shape[1:] != trailing:
            for dim, (a, b) in enumerate(zip(trailing, s.shape[1:]), start=1):
                if a != b:
                    raise RuntimeError(f"The size of tensor a ({a}) must match the size of "
                                       f"tensor b ({b}) at non-singleton dimension {dim}")
            raise RuntimeError(f"expected every sequence to have {len(trailing) + 1} dimensions")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        side = (0, extra) if padding_side == "right" else (extra, 0)
        pad = (0, 0) * len(trailing) + side   # F.pad counts from the last dimension
        padded.append(F.pad(s, pad, value=padding_value) if extra else s)
    return stack(padded, dim=0 if batch_first else 1)
