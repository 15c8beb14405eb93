"""One run per output folder: an exclusive ``flock`` on ``<output.dir>/.lock``, held for the
run's life, and the clean-up of temporary files that only touches dead writers' leftovers.

    lock = RunLock(out_dir)
    lock.acquire()        # RunLockedError naming the holder's pid if another run has it
    ...
    lock.release()        # removes .lock (a failed or finished run leaves the folder as it was)

The lock file holds the holder's pid (for the error message only: the kernel's flock is the
lock, so a killed holder never leaves a stale lock behind). Releasing unlinks the file while
still holding it; a waiter that opened the old file then sees that its inode is no longer the
one at the path and tries again, so two runs can never both believe they hold the lock.

Temporary files are named by their writer (``.<name>.tmp-<pid>-<random>``, see
``minitorch/io/atomic.py``); ``remove_stale_temporaries`` deletes one only when its pid is no
longer alive, so a run can never delete another live process's in-flight file.
"""
import errno
import fcntl
import os
import re

from .errors import TrainerError

__all__ = ["RunLock", "RunLockedError", "remove_stale_temporaries", "LOCK_NAME"]

LOCK_NAME = ".lock"

# The files a run writes atomically; their temporaries are .<file>.tmp-<pid>-<hex>.
_TEMPORARY = re.compile(r"^\.(last\.h5|best\.h5|metrics\.jsonl|curves\.png|config\.yaml)"
                        r"\.tmp-(\d+)-[0-9a-f]+$")


class RunLockedError(TrainerError):
    """Another run holds the output folder."""


def _read_pid(fd):
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class RunLock:
    """The exclusive lock of one output folder (see the module docstring)."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        self.path = os.path.join(self.folder, LOCK_NAME)
        self.fd = None

    @property
    def held(self):
        return self.fd is not None

    def acquire(self):
        """Take the lock or raise ``RunLockedError``; idempotent."""
        if self.fd is not None:
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_pid(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                who = f"pid {holder}" if holder else "another process"
                raise RunLockedError(
                    f"output.dir {self.folder} is in use by another run ({who}, lock "
                    f"{self.path}): wait for it to finish or choose another output.dir") \
                    from None
            if self._is_current(fd):
                break
            os.close(fd)   # the holder released (and unlinked) it meanwhile: take the new one
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            self._unlink_and_close(fd)
            raise
        self.fd = fd

    def _is_current(self, fd):
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (on_disk.st_ino, on_disk.st_dev) == (mine.st_ino, mine.st_dev)

    def _unlink_and_close(self, fd):
        try:
            os.unlink(self.path)   # while still holding the lock: see the module docstring
        except OSError:
            pass
        os.close(fd)

    def release(self):
        """Drop the lock and remove the lock file; idempotent."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        self._unlink_and_close(fd)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder):
    """Delete the run files' temporaries whose writer is dead; returns the names removed.

    A temporary of a live process (another tool writing into the folder, or this process) is
    never touched, nor is any file that is not one of a run's temporaries."""
    removed = []
    for name in sorted(os.listdir(folder)):
        match = _TEMPORARY.match(name)
        if match is None or _alive(int(match.group(2))):
            continue
        try:
            os.remove(os.path.join(folder, name))
        except FileNotFoundError:
            continue
        removed.append(name)
    return removed
