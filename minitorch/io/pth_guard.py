"""Checks that run on a ``.pth`` before its pickle is loaded and before a storage is read.

The restricted unpickler (``pth_reader``) already refuses every global outside a short list.
What it cannot refuse by itself is a pickle or a geometry that *declares* too much:

* a memo index of 2**31 (``LONG_BINPUT``) makes the C unpickler grow its memo to that size;
  a length field of 2**60 in ``BINBYTES8`` asks it to allocate that buffer; 5000 levels of
  nesting make every later walk recursive. ``check_pickle`` walks the opcodes with
  ``pickletools`` (which reads only what is there) and simulates the stack height, so each of
  these is one line before anything is built;
* a tensor with a stride of 0, overlapping strides or sizes whose product overflows would turn
  a few bytes of storage into gigabytes. ``check_geometry`` accepts only what a state dict
  holds: dense, non-overlapping views that fit their storage.
"""
import math
import pickletools

from .errors import CorruptFileError

__all__ = ["check_pickle", "check_geometry", "MAX_PICKLE_BYTES", "MAX_STACK", "MAX_MARKS"]

MAX_PICKLE_BYTES = 64 * 2**20   # torchvision's ResNet-152 state-dict pickle is about 60 kB
MAX_STACK = 5000                # values on the unpickler's stack at once (a batch of
                                # SETITEMS holds 2000; a nested dict adds 2 per level)
MAX_MARKS = 64                  # open MARKs: nesting of tuples, lists and item batches
_MAX_DIM = 32
_MAX_ELEMENTS = 2**48           # far above any tensor, far below int64 overflow


def _pop(height, marks, before, where):
    if pickletools.markobject in before:
        if not marks:
            raise CorruptFileError(f"{where}: damaged pickle (no MARK to pop to)")
        height = marks.pop() - before.index(pickletools.markobject)
    else:
        height -= len(before)
    if height < 0:
        raise CorruptFileError(f"{where}: damaged pickle (stack underflow)")
    return height


def check_pickle(stream, where: str) -> None:
    """Walk the pickle at ``stream``'s position without building it (the stream is left after
    it).

    Raises CorruptFileError (one line) for a damaged pickle, a memo index beyond the opcodes
    read so far, nesting beyond MAX_MARKS, a stack of more than MAX_STACK values.
    """
    height, marks, ops = 0, [], 0
    try:
        for op, arg, pos in pickletools.genops(stream):
            ops += 1
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and not 0 <= int(arg) <= ops:
                raise CorruptFileError(f"{where}: pickle memo index {arg} at byte {pos} is "
                                       f"beyond its {ops} opcodes (a memory bomb?)")
            height = _pop(height, marks, op.stack_before, where)
            if pickletools.markobject in op.stack_after:
                marks.append(height)
                if len(marks) > MAX_MARKS:
                    raise CorruptFileError(f"{where}: pickle nested deeper than {MAX_MARKS} "
                                           f"levels at byte {pos}")
            else:
                height += len(op.stack_after)
            if height > MAX_STACK:
                raise CorruptFileError(f"{where}: pickle holds more than {MAX_STACK} values "
                                       f"at once at byte {pos} (nested too deeply?)")
    except CorruptFileError:
        raise
    except Exception as e:   # genops raises ValueError for truncations, others for garbage
        raise CorruptFileError(f"{where}: damaged pickle ({e})") from None


def check_geometry(offset, size, stride, storage_numel, where) -> int:
    """Raise unless a tensor of ``size``/``stride`` at ``offset`` is a dense, non-overlapping
    view inside a storage of ``storage_numel`` elements; returns the elements it needs read
    (one past the last it touches)."""
    if len(size) > _MAX_DIM:
        raise CorruptFileError(f"{where}: {len(size)} dimensions (at most {_MAX_DIM})")
    numel = math.prod(size)
    if numel > _MAX_ELEMENTS or any(s > _MAX_ELEMENTS for s in stride) or \
            offset > _MAX_ELEMENTS:
        raise CorruptFileError(f"{where}: sizes {size}, strides {stride} and offset {offset} "
                               f"overflow any storage")
    if numel == 0:
        return 0
    reach = 1   # elements spanned by the dimensions checked so far (smallest stride first)
    for n, s in sorted(((n, s) for n, s in zip(size, stride) if n > 1), key=lambda d: d[1]):
        if s < reach:
            what = "a stride of 0 (an expanded tensor)" if s == 0 else "overlapping strides"
            raise CorruptFileError(f"{where}: size {size} with stride {stride} has {what}; a "
                                   f"state dict holds dense tensors")
        reach = (n - 1) * s + reach
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if storage_numel is not None and last >= storage_numel:
        raise CorruptFileError(f"{where}: tensor reaches element {last} of a storage of "
                               f"{storage_numel}")
    return last + 1
