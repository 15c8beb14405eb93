"""DataLoader worker processes: the loop each worker runs, its seeding, ``get_worker_info``.

Seeding is PyTorch's: the loader draws a base seed from its generator (or minitorch's global
one) for every new set of workers; worker ``i`` seeds Python's ``random`` and minitorch with
``base_seed + i`` and numpy's global generator with a state derived from (base_seed, i), so
random augmentation in ``__getitem__`` differs between workers and is reproducible for a given
seed. (Datasets with the ``get_item(index, rng)`` protocol draw from per-sample generators and
are identical whatever the number of workers.)

Each worker runs one BLAS and one numba thread: the workers are the parallelism. Workers are
forked on Linux; numba's OpenMP thread pool cannot run in a child forked after the parent used
it, so a dataset that runs minitorch kernels needs ``multiprocessing_context="spawn"``.
"""
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

from minitorch.random import manual_seed

from .fetch import IterableFetcher, MapFetcher

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper", "worker_loop"]

_worker_info = None
# How often a waiting worker checks that its parent is alive (seconds).
STATUS_INTERVAL = 1.0


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``,
    ``dataset`` (this worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 - torch's name
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={type(self.dataset).__name__})")


def get_worker_info():
    """The ``WorkerInfo`` of this DataLoader worker process, or None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, worker_id):
        exc_type, exc, _ = sys.exc_info()
        self.exc_type = exc_type
        self.message = (f"Caught {exc_type.__name__} in DataLoader worker process {worker_id}.\n"
                        f"Original {''.join(traceback.format_exc())}")

    def reraise(self):
        """Raise it again here, as the same type when it can be built from one message."""
        try:
            exc = self.exc_type(self.message)
        except Exception:
            exc = None
        if not isinstance(exc, BaseException) or str(exc) != self.message:
            exc = RuntimeError(self.message)   # e.g. KeyError would quote the message
        raise exc


def _one_thread_each():
    """One BLAS thread and one numba thread in this worker (the workers are the parallelism)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(1)


def _seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))
    return seed


def worker_loop(spec, index_queue, result_queue, done_event, base_seed, worker_id, num_workers):
    """Serve tasks ``(kind, epoch_id, task_idx, payload)`` until ``None`` or the parent dies.

    Replies ``(epoch_id, task_idx, status, value)``: status "data" (the batch), "error" (an
    ExceptionWrapper) or "stop" (an iterable dataset is exhausted in this worker).
    """
    global _worker_info
    parent = os.getppid()
    try:
        _one_thread_each()
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, spec["dataset"])
        init_error = None
        if spec["worker_init_fn"] is not None:
            try:
                spec["worker_init_fn"](worker_id)
            except Exception:
                init_error = ExceptionWrapper(worker_id)
        fetcher = None
        while True:
            try:
                msg = index_queue.get(timeout=STATUS_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:
                    break
                continue
            if msg is None:
                break
            kind, epoch_id, task_idx, payload = msg
            if kind == "reset" or done_event.is_set():
                fetcher = None   # an iterable dataset restarts its iterator next epoch
                continue
            if init_error is not None:
                result_queue.put((epoch_id, task_idx, "error", init_error))
                continue
            try:
                if fetcher is None:
                    fetcher = _make_fetcher(spec)
                reply = (epoch_id, task_idx, "data", fetcher.fetch(payload))
            except StopIteration:
                reply = (epoch_id, task_idx, "stop", None)
            except Exception:
                reply = (epoch_id, task_idx, "error", ExceptionWrapper(worker_id))
            result_queue.put(_dumps(reply, worker_id))
            del reply
    except KeyboardInterrupt:
        pass   # the main process handles Ctrl-C and shuts the workers down
    if done_event.is_set():
        # Exit without waiting for unread results to be flushed to a reader that is gone.
        result_queue.cancel_join_thread()
        result_queue.close()


def _dumps(reply, worker_id):
    """The reply pickled here, so a batch (or exception) that cannot be pickled becomes an error
    the main process raises instead of being lost in the queue's feeder thread."""
    try:
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        try:
            raise RuntimeError(f"the batch could not be sent to the main process (it must be "
                               f"picklable): {traceback.format_exc(limit=0).strip()}") from None
        except RuntimeError:
            error = ExceptionWrapper(worker_id)
        return pickle.dumps((reply[0], reply[1], "error", error))


def _make_fetcher(spec):
    if spec["iterable"]:
        return IterableFetcher(spec["dataset"], spec["collate_fn"], spec["auto_collation"],
                               spec["batch_size"], spec["drop_last"])
    return MapFetcher(spec["dataset"], spec["collate_fn"], spec["auto_collation"], spec["seed"])
