"""Named-tuple results of ops that return values and indices, as ``torch.return_types``: the
fields are ``.values`` and ``.indices`` and the result unpacks like a tuple."""
from collections import namedtuple

__all__ = ["sort", "topk", "median"]


class _Result:
    """Prints as torch's (``minitorch.return_types.topk(values=..., indices=...)``)."""

    __slots__ = ()

    def __repr__(self):
        return (f"minitorch.return_types.{type(self).__name__}(\nvalues={self.values!r},\n"
                f"indices={self.indices!r})")


class sort(_Result, namedtuple("sort", ["values", "indices"])):  # noqa: N801 - torch's name
    __slots__ = ()


class topk(_Result, namedtuple("topk", ["values", "indices"])):  # noqa: N801 - torch's name
    __slots__ = ()


class median(_Result, namedtuple("median", ["values", "indices"])):  # noqa: N801 - torch's name
    __slots__ = ()
