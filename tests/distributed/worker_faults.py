"""Run under ``mpiexec -n 2`` with a mode: one rank fails while the other is inside (or about to
enter) a collective; the job must end instead of hanging."""
import os
import signal
import sys
import time

import numpy as np

import minitorch.distributed as dist


def steps(fail_at, fail):
    buf = np.ones(1000, dtype=np.float32)
    for step in range(10_000):
        if dist.rank() == 1 and step == fail_at:
            fail()
        dist.all_reduce_([buf], op="mean")
        time.sleep(0.01)


def main(mode):
    dist.init()
    if mode == "exception":
        def fail():
            raise ValueError("rank one exploded at step 3")
        steps(3, fail)
    elif mode == "sigkill":
        steps(3, lambda: os.kill(os.getpid(), signal.SIGKILL))
    elif mode == "error_one":
        # A short grace period keeps the test fast (the default waits 10 s for the others).
        steps(3, lambda: dist.exit_with_error("error: only rank one saw this", code=2, timeout=1))
    elif mode == "error_all":
        dist.exit_with_error("error: every rank saw this", code=2)
    print("unreachable", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
