"""The process group: who am I, how many are we, and the MPI communicator behind it.

``init()`` reads the MPI environment. A process not launched by ``mpiexec``/``srun`` is world
size 1 and never imports mpi4py, so a laptop run needs no MPI at all. A process launched by an
MPI launcher but without mpi4py installed would otherwise run N independent copies of the job,
each believing it is alone (and all writing the same files): that is refused with an error
telling how to install the extra.
"""
import os

__all__ = [
    "DistributedError", "init", "is_initialized", "rank", "world_size", "local_world_size",
    "is_main_process", "barrier", "launcher_world_size", "get_comm",
]

# Variables set by the common MPI launchers for every process they start (MPICH/Hydra and Intel
# MPI: PMI_*; Open MPI: OMPI_COMM_WORLD_*; PMIx-based launchers incl. Slurm: PMIX_RANK; MVAPICH).
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_MARKER_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "PMIX_RANK",
                "MPI_LOCALNRANKS")

INSTALL_HINT = 'pip install -e ".[mpi]"'


class DistributedError(RuntimeError):
    """A problem with the multi-process setup (missing mpi4py, mismatched ranks, ...)."""


class _Group:
    """The state of this process's group: filled once by ``init()``."""

    def __init__(self):
        self.initialized = False
        self.comm = None        # mpi4py COMM_WORLD duplicate for collectives, None when alone
        self.control = None     # a second duplicate for the exit guard (never mixed with data)
        self.rank = 0
        self.size = 1
        self.local_size = 1


_group = _Group()


def launcher_world_size(environ=None):
    """The world size an MPI launcher announced in the environment: None when not launched by
    one, 0 when launched but the size is not announced (PMIx sets only the rank)."""
    environ = os.environ if environ is None else environ
    for name in _SIZE_VARS:
        if name in environ:
            try:
                return int(environ[name])
            except ValueError:
                return 0
    return 0 if any(name in environ for name in _MARKER_VARS) else None


def _import_mpi(launched_size):
    """mpi4py's MPI module, or a DistributedError when a launcher started us without it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        if launched_size == 1:
            return None
        raise DistributedError(
            f"this process was started by an MPI launcher (world size "
            f"{launched_size or 'unknown'}) but mpi4py is not importable ({exc}); install the "
            f"MPI extra with: {INSTALL_HINT}") from None
    return MPI


def init(configure_threads=True, install_excepthook=True):
    """Join the process group (idempotent) and return the world size.

    Outside an MPI launcher this is world size 1 and touches nothing. Under ``mpiexec -n N``
    it duplicates COMM_WORLD, sets each rank's numba/BLAS threads to its share of the node's
    cores (``configure_threads``) and installs an excepthook that aborts the whole job with the
    failing rank's message instead of leaving the other ranks blocked in a collective.
    """
    if _group.initialized:
        return _group.size
    launched = launcher_world_size()
    MPI = _import_mpi(launched) if launched is not None else None
    if MPI is not None:
        world = MPI.COMM_WORLD
        _group.comm = world.Dup()
        _group.control = world.Dup()
        _group.rank = world.Get_rank()
        _group.size = world.Get_size()
        local = world.Split_type(MPI.COMM_TYPE_SHARED, key=_group.rank)
        _group.local_size = local.Get_size()
        if _group.size > 1 and configure_threads:
            from .threads import configure_threads as _configure
            _configure(local)
        local.Free()
    _group.initialized = True
    if _group.size > 1 and install_excepthook:
        from .faults import install_excepthook as _install
        _install()
    return _group.size


def is_initialized():
    """True once ``init()`` has run in this process."""
    return _group.initialized


def rank():
    """This process's rank in the world, 0 when alone (calls ``init()`` on first use)."""
    init()
    return _group.rank


def world_size():
    """The number of processes in the job, 1 when alone (calls ``init()`` on first use)."""
    init()
    return _group.size


def local_world_size():
    """How many ranks of the job share this machine (they share its cores)."""
    init()
    return _group.local_size


def is_main_process():
    """True on rank 0: the one process that writes files, metrics and progress bars."""
    return rank() == 0


def get_comm():
    """The mpi4py communicator for collectives, or None when the world is one process."""
    init()
    return _group.comm if _group.size > 1 else None


def barrier():
    """Block until every rank arrives (a no-op alone)."""
    comm = get_comm()
    if comm is not None:
        comm.Barrier()
