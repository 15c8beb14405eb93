"""The exceptions of minitorch.io: one line each, naming the file or the object at fault."""

__all__ = ["CorruptFileError", "UnsupportedObjectError", "UnsafePickleError", "NonFiniteError",
           "WeightsAttributeError"]


class CorruptFileError(ValueError):
    """A file that exists but cannot be read as what it claims to be (not HDF5, truncated, ...)."""


class UnsupportedObjectError(ValueError, TypeError):
    """``save`` was given something it cannot store without pickle (a function, a class, ...).

    Also a TypeError, because that is what callers used to ``torch.save`` would catch.
    """


class UnsafePickleError(CorruptFileError):
    """A .pth pickle asks for a global outside the short list a state dict needs."""


class NonFiniteError(CorruptFileError):
    """A weights file holds NaN or Inf (``load(..., allow_nonfinite=True)`` reads it anyway)."""


class WeightsAttributeError(CorruptFileError):
    """A root attribute of a weights file has the wrong type or value."""
