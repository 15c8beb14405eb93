"""SIGINT and SIGTERM end a run cleanly, at a moment where every file is whole.

    with StopRequests() as stops:     # installs the handlers, restores the old ones on exit
        ...                           # a signal here raises RunInterrupted at once
        with stops.deferred():        # while training: the signal is only recorded ...
            ...
            stops.check()             # ... and raised here, between steps and after the
                                      # epoch's files are written

Before the loop nothing has been written, so the exception is raised where the signal lands.
During the loop raising from inside an HDF5 write could be swallowed by h5py's C callbacks (a
Ctrl-C that the run survived) or land between the metrics line and the checkpoint; so the
handler only records the signal and the trainer checks at its safe points. The exit code is
128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports a killed job.
"""
import contextlib
import signal
import threading

__all__ = ["RunInterrupted", "StopRequests", "ignore_file_size_signal"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(KeyboardInterrupt):
    """The run was asked to stop by a signal; ``exit_code`` is 128 + its number."""

    def __init__(self, signum, message=""):
        super().__init__(message)
        self.signum = int(signum)
        self.exit_code = 128 + self.signum

    @property
    def signal_name(self):
        return signal.Signals(self.signum).name


class StopRequests:
    """Records SIGINT/SIGTERM; see the module docstring."""

    def __init__(self):
        self.signum = None
        self._deferred = 0
        self._previous = {}

    def _handle(self, signum, frame):
        if self.signum is None:
            self.signum = signum
        if not self._deferred:
            raise RunInterrupted(signum)

    def install(self):
        """Install the handlers (only possible in the main thread; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in _SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def uninstall(self):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.uninstall()

    @contextlib.contextmanager
    def deferred(self):
        """Only record signals inside the block (``check`` raises them)."""
        self._deferred += 1
        try:
            yield self
        finally:
            self._deferred -= 1

    @property
    def requested(self):
        return self.signum is not None

    def check(self, message=""):
        """Raise ``RunInterrupted`` if a signal arrived."""
        if self.signum is not None:
            raise RunInterrupted(self.signum, message)


def ignore_file_size_signal():
    """A write past RLIMIT_FSIZE sends SIGXFSZ, which kills the process without a word by
    default; ignored, the write fails with EFBIG and becomes a one-line error instead."""
    if hasattr(signal, "SIGXFSZ") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
