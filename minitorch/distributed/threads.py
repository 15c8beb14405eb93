"""Per-rank thread counts, so ranks sharing a machine do not oversubscribe its cores.

Each rank runs numba kernels (their own thread pool) and OpenBLAS matmuls (another pool). Left
alone, every rank starts one thread per core in each pool, and N ranks on C cores run 2*N*C
threads fighting for C cores: much slower than one process. Each rank gets its share instead.
"""
import os

__all__ = ["threads_per_rank", "configure_threads", "set_num_threads"]

# Thread-count variables a user may set to cap the pools; we never raise a count above them.
_USER_CAPS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _affinity():
    """The CPU ids this process may run on (all of them where affinity is unsupported)."""
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:
        return set(range(os.cpu_count() or 1))


def threads_per_rank(cores, ranks_sharing, own_cores=None, environ=None):
    """The thread count for one rank: its share of the cores the local ranks share, at least 1,
    never above the cores it may run on nor a count the user set in the environment."""
    environ = os.environ if environ is None else environ
    n = max(1, cores // max(1, ranks_sharing))
    if own_cores is not None:
        n = min(n, max(1, own_cores))
    for name in _USER_CAPS:
        value = environ.get(name, "")
        if value.strip().isdigit() and int(value) > 0:
            n = min(n, int(value))
    return n


def set_num_threads(n):
    """Set numba's and the BLAS/OpenMP pools' thread counts in this process to ``n``."""
    import numba
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # only a speed concern: BLAS keeps its own default
        return
    # Not used as a context manager: the limit is meant to last for the life of the process.
    threadpool_limits(limits=n)


def configure_threads(local_comm):
    """Give this rank its share of the cores used by the ranks on its machine (``local_comm``
    groups them). Cores are counted as the union of their CPU affinities, so ranks pinned by
    the launcher to disjoint cores and unpinned ranks sharing all cores both come out right."""
    own = _affinity()
    union = set().union(*local_comm.allgather(sorted(own)))
    n = threads_per_rank(len(union), local_comm.Get_size(), own_cores=len(own))
    set_num_threads(n)
    return n
