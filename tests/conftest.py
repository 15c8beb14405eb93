"""The test session runs with the process settings minitorch's CLI and Trainer use.

``import minitorch`` tunes nothing; ``minitorch.runtime.configure()`` does (BLAS one thread per
call with minitorch's own product pool, idle OpenMP threads sleeping, glibc keeping freed
blocks). It has to come before numba starts its thread pool, so here, before any test: without
the sleeping OpenMP threads a tiny convolution took 200 ms instead of 3 on this shared machine.
Subprocesses started by tests inherit the OpenMP setting through the environment.
"""
import os

import minitorch.runtime

minitorch.runtime.configure()

# A run of this many tests or more is a whole-suite run (CI's is ~3,200).
WHOLE_SUITE = 1000


def pytest_collection_finish(session):
    """On a cold numba cache (CI's fresh clone) a whole-suite run first compiles the float32
    training kernels in two processes, as ``minitorch-finetune`` does: about 75 s of one core's
    compiling, which the tests would otherwise do one kernel at a time in this process. A warm
    cache costs a few file checks; a run of a few files compiles only what it reaches."""
    if (len(session.items) >= WHOLE_SUITE and not session.config.option.collectonly
            and os.environ.get("NUMBA_DISABLE_JIT", "0") == "0"):
        minitorch.runtime.compile_if_cold(processes=2)
