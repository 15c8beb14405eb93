"""``minitorch.Size``: the tuple that ``Tensor.shape`` and ``Tensor.size()`` return.

A plain tuple subclass (so it compares, hashes and unpacks like the tuple it is), printed as
PyTorch prints its ``torch.Size``, with ``numel()``; slicing, ``+`` and ``*`` keep the type.
"""
import operator

__all__ = ["Size"]


class Size(tuple):
    __slots__ = ()

    def __new__(cls, sizes=()):
        try:
            dims = tuple(operator.index(s) for s in sizes)
        except TypeError:
            bad = next(s for s in sizes if not _is_index(s))
            raise TypeError(f"minitorch.Size() takes an iterable of 'int' (item "
                            f"{list(sizes).index(bad)} is '{type(bad).__name__}')") from None
        return super().__new__(cls, dims)

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"minitorch.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, key):
        got = tuple.__getitem__(self, key)
        return Size(got) if isinstance(key, slice) else got

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


def _is_index(value) -> bool:
    try:
        operator.index(value)
    except TypeError:
        return False
    return True
