"""The finetuning tool's user errors, and how the CLI turns any of them into one line.

A user error is something the person running the tool can fix (a config key, a file, a folder);
the CLI prints it as ``error: <one line>`` and exits with code 2, without a traceback. Anything
else is a bug and keeps its traceback.
"""
import contextlib
import os
import re

__all__ = ["TrainerError", "RunWriteError", "NonFiniteLossError", "writing",
           "user_error_types", "one_line"]


class TrainerError(ValueError):
    """A setup the trainer refuses (nothing to train, a class count that does not fit, ...)."""


class RunWriteError(TrainerError):
    """The environment refused a write (read-only or full disk, file-size limit, permission)."""


class NonFiniteLossError(TrainerError):
    """The loss became NaN or infinite: the run stops before it spoils the model."""


def _os_reason(exc):
    """The short reason of an OSError, also for h5py's (which carry the errno in the text)."""
    if getattr(exc, "errno", None):
        return os.strerror(exc.errno)
    found = re.search(r"error message = '([^']+)'", str(exc))
    if found:
        return found.group(1)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


@contextlib.contextmanager
def writing(path):
    """Turn an OSError while writing ``path`` into one line (the earlier files are whole:
    every write is atomic or, for metrics.jsonl, rolled back)."""
    try:
        yield
    except OSError as exc:
        raise RunWriteError(f"cannot write {path}: {_os_reason(exc)}; the files written "
                            f"before are whole") from None


def user_error_types():
    """The exception types that mean "the input is wrong", gathered from every layer below.

    Imported late so that ``minitorch.train.errors`` stays cheap to import.
    """
    from minitorch.data.errors import DataError
    from minitorch.distributed import DataParallelError, DistributedError
    from minitorch.io.errors import CorruptFileError
    from minitorch.nn.module import StateDictError
    from .config import ConfigError
    return (TrainerError, ConfigError, DataError, CorruptFileError, StateDictError,
            DataParallelError, DistributedError, FileNotFoundError, IsADirectoryError,
            NotADirectoryError, PermissionError)


def one_line(exc):
    """``str(exc)`` folded onto one line: a multi-problem message keeps every problem, joined
    with '; ' (the user fixes them all in one go)."""
    text = str(exc) or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else type(exc).__name__
    head = lines[0].rstrip(":")
    return f"{head}: {'; '.join(lines[1:])}"
