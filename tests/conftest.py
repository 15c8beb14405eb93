"""The test session runs with the process settings minitorch's CLI and Trainer use.

``import minitorch`` tunes nothing; ``minitorch.runtime.configure()`` does (BLAS one thread per
call with minitorch's own product pool, idle OpenMP threads sleeping, glibc keeping freed
blocks). It has to come before numba starts its thread pool, so here, before any test: without
the sleeping OpenMP threads a tiny convolution took 200 ms instead of 3 on this shared machine.
Subprocesses started by tests inherit the OpenMP setting through the environment.
"""
import minitorch.runtime

minitorch.runtime.configure()
