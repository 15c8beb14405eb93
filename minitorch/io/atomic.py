"""Atomic file writes: the destination is either the old file, whole, or the new one, whole.

Every writer puts its bytes into a temporary file in the destination's own folder (``os.replace``
is only atomic within one filesystem), flushes and fsyncs it, then renames it over the
destination and fsyncs the folder so the rename itself survives a power cut. Any exception
(including KeyboardInterrupt) removes the temporary file and leaves the destination untouched.
"""
import contextlib
import os
import secrets

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_copy", "fsync_path"]


def fsync_path(path) -> None:
    """Flush a closed file's data to disk (h5py closes its file before we can fsync the handle)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: str) -> None:
    # Directory fsync makes the rename durable; some filesystems refuse it, which is harmless.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_temp(path: str) -> str:
    folder, name = os.path.split(path)
    if folder and not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write '{path}': folder '{folder}' does not exist")
    # O_EXCL with a random name: no clash with a concurrent writer; mode 0o666 honours the umask
    # (mkstemp would leave the final file readable by its owner only).
    for _ in range(100):
        temp = os.path.join(folder, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp
    raise FileExistsError(f"cannot create a temporary file next to '{path}'")


@contextlib.contextmanager
def atomic_path(path, _synced=False):
    """Yield a temporary path to write; on success it replaces ``path`` atomically.

    The writer must have closed the temporary file when the ``with`` block ends.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write '{path}': it is a directory")
    temp = _create_temp(path)
    try:
        yield temp
        if not _synced:   # a writer that fsynced its own handle need not pay for a second one
            fsync_path(temp)
    except BaseException:
        _discard(temp)
        raise
    _commit(temp, path)


def _discard(temp):
    with contextlib.suppress(FileNotFoundError):
        os.remove(temp)


def _commit(temp, path):
    """Rename the finished ``temp`` over ``path`` (removing ``temp`` if that fails), then fsync
    the folder so that the rename survives a power cut."""
    try:
        os.replace(temp, path)
    except BaseException:
        _discard(temp)
        raise
    _fsync_dir(os.path.dirname(os.path.abspath(path)))


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, _synced=True) as temp, open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_copy(source, path) -> None:
    """``path`` atomically becomes a copy of the file ``source``, which was written (and
    fsynced) by one of these writers: a hard link where the filesystem allows one (no bytes
    written or synced again; a later atomic write of either name replaces that name only, so
    the two stay independent), else a copy of the bytes."""
    path, source = os.fspath(path), os.fspath(source)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write '{path}': it is a directory")
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.link(source, temp)
    except OSError:   # no hard links here (FAT, some network filesystems), or a name clash
        with open(source, "rb") as f:
            atomic_write_bytes(path, f.read())
        return
    _commit(temp, path)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (UTF-8 by default)."""
    atomic_write_bytes(path, text.encode(encoding))
