"""Failing as one job: an error on one rank ends every rank, with that rank's message.

MPI has no notion of "the job failed": a rank that raises simply exits, and the other ranks wait
forever in their next collective. Three exits are handled here:

- an uncaught exception: the excepthook prints it (prefixed with the rank) and calls
  ``Comm.Abort``, which makes the launcher kill every rank; the exit code is 1;
- a user error the CLI turns into ``error: ...`` and an exit code (``exit_with_error``): if every
  rank hits it (a bad config is bad everywhere), the ranks agree within a grace period, rank 0
  prints the line once and all exit with the code; if this rank is alone, it prints its line
  and aborts the job with the code;
- a rank killed by a signal: the launcher (MPICH's Hydra, Open MPI's mpirun) notices the death
  and kills the others within about a second, so no watchdog is needed here.
"""
import sys
import time
import traceback

from . import env

__all__ = ["abort", "install_excepthook", "exit_with_error"]

# How long a failing rank waits for the others to fail the same way before aborting the job.
AGREE_SECONDS = 10.0
_MESSAGE_BYTES = 1024


def abort(message, code=1):
    """Print ``message`` on stderr and end the whole job with exit code ``code``; alone, it is
    ``sys.exit(code)`` after printing."""
    if message:
        sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    sys.stdout.flush()
    comm = env.get_comm()
    if comm is None:
        sys.exit(code)
    comm.Abort(code)


def _excepthook(exc_type, exc, tb):
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    prefix = f"[rank {env.rank()}] "
    abort("".join(prefix + line for line in text.splitlines(keepends=True)), code=1)


def install_excepthook():
    """Make an uncaught exception on any rank abort the whole job (set by ``init()``)."""
    sys.excepthook = _excepthook


def _encode(message):
    import numpy as np
    raw = message.encode("utf-8", "replace")[:_MESSAGE_BYTES]
    buf = np.zeros(_MESSAGE_BYTES, dtype=np.uint8)
    buf[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return buf


def _decode(buf):
    return bytes(buf).rstrip(b"\0").decode("utf-8", "replace")


def _gather_failures(comm, message, timeout):
    """Every rank's failure message if all ranks fail within ``timeout`` seconds, else None.
    Runs on the control communicator, so it never matches a training collective."""
    import numpy as np
    send = _encode(message)
    recv = np.zeros((comm.Get_size(), _MESSAGE_BYTES), dtype=np.uint8)
    request = comm.Iallgather(send, recv)
    deadline = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > deadline:
            return None  # the request is abandoned: Abort follows and tears everything down
        time.sleep(0.01)
    return [_decode(row) for row in recv]


def exit_with_error(message, code=2, timeout=None):
    """End this process (and the job) after a user error, printing ``message`` once.

    Alone: print and ``sys.exit(code)``. In a job: if all ranks fail within the grace period,
    rank 0 prints each distinct message once and every rank exits with ``code`` (a clean exit,
    no launcher banner); otherwise this rank prints its own message and aborts the job."""
    env.init()
    control = env._group.control if env.world_size() > 1 else None
    if control is None:
        abort(message, code)
    failures = _gather_failures(control, message, AGREE_SECONDS if timeout is None else timeout)
    if failures is None:
        abort(f"[rank {env.rank()}] {message}", code)
    if env.rank() == 0:
        for line in dict.fromkeys(failures):  # distinct, in rank order
            sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()
    sys.exit(code)
