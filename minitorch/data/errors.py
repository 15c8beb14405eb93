"""The data layer's user-facing error types.

Every message is one line naming the culprit (a path, a class, an index), so the CLI can print it as
``error: ...`` without a traceback.
"""

__all__ = ["DataError", "DataFileNotFoundError"]


class DataError(ValueError):
    """A problem with a dataset, its files or a data-pipeline argument."""


class DataFileNotFoundError(FileNotFoundError, DataError):
    """A dataset file or folder that does not exist (a DataError and a FileNotFoundError)."""
