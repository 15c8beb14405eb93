"""Data-parallel training over MPI (mpi4py): one process per shard, gradients averaged.

``mpiexec -n 4 minitorch-finetune CONFIG`` is the whole user interface; this package is what the
trainer uses underneath. Without mpi4py or outside an MPI launcher the world is one process and
every function here is a cheap no-op, so single-process code needs no special case.

- ``init``, ``rank``, ``world_size``, ``local_world_size``, ``is_main_process``, ``barrier``
- ``all_reduce_(tensors, op="mean")``, ``broadcast_(tensors, src=0)``: bucketed, in place
- ``all_reduce_scalars(dict)``: metrics
- ``abort(message, code)``, ``exit_with_error(message, code=2)``: one rank's failure ends the job
- ``GradientSync(model)``: the trainer's seam (broadcast at start, gradient mean per step)
- ``SyncBatchNorm``, ``convert_sync_batchnorm(model)``: batch statistics over the global batch
"""
from .collectives import BUCKET_BYTES, all_reduce_, all_reduce_scalars, broadcast_
from .env import (DistributedError, barrier, get_comm, init, is_initialized, is_main_process,
                  local_world_size, rank, world_size)
from .faults import abort, exit_with_error, install_excepthook
from .parallel import (DataParallelError, GradientSync, check_dataset_size,
                       split_global_batch)
from .threads import set_num_threads, threads_per_rank


def __getattr__(name):
    # SyncBatchNorm needs minitorch.nn, which the collectives do not: load it on first use.
    if name in ("SyncBatchNorm", "convert_sync_batchnorm"):
        from . import sync_batchnorm
        return getattr(sync_batchnorm, name)
    raise AttributeError(f"module 'minitorch.distributed' has no attribute {name!r}")

__all__ = [
    "init", "is_initialized", "rank", "world_size", "local_world_size", "is_main_process",
    "barrier", "get_comm", "DistributedError",
    "all_reduce_", "broadcast_", "all_reduce_scalars", "BUCKET_BYTES",
    "abort", "exit_with_error", "install_excepthook",
    "GradientSync", "DataParallelError", "check_dataset_size", "split_global_batch",
    "SyncBatchNorm", "convert_sync_batchnorm", "set_num_threads", "threads_per_rank",
]
