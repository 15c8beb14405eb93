"""The DataLoader's iterator over worker processes: tasks out, batches back, in order.

Batch i is sent to worker i % num_workers (skipping exhausted workers of an iterable dataset)
and at most ``prefetch_factor * num_workers`` batches are in flight. Results come back on one
queue, tagged with their task number, and are yielded in task order (``in_order=False``: as they
arrive), so the batches are those of ``num_workers=0``. An exception in a worker is re-raised
here with the worker's traceback; the iterator stays usable, as torch's. Every new epoch of
persistent workers gets a new epoch id, so results of an epoch that was broken off are dropped.
Shutdown (end of epoch, ``del``, garbage collection, interpreter exit) asks each worker to stop,
joins it, and terminates any that does not stop in time: no zombies, no hang.
"""
import multiprocessing
import pickle
import queue
import sys
import time

from .worker import STATUS_INTERVAL, worker_loop

__all__ = ["MultiProcessIter"]

_JOIN_SECONDS = 5.0
_SKIPPED = object()   # a task of an iterable dataset that found its worker exhausted


def _context(requested):
    if requested is None:
        # fork: workers start at once and inherit the dataset unpickled (as torch on Linux).
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else None)
    if isinstance(requested, str):
        return multiprocessing.get_context(requested)
    return requested


class MultiProcessIter:
    def __init__(self, loader, tasks, base_seed):
        self._iterable = loader._iterable
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._timeout, self._in_order = loader.timeout, loader.in_order
        self._persistent = loader.persistent_workers
        ctx = _context(loader.multiprocessing_context)
        self._results = ctx.Queue()
        self._done = ctx.Event()
        self._index_queues, self._workers = [], []
        spec = loader.worker_spec()
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()   # never block exit on tasks nobody will read
            w = ctx.Process(target=worker_loop, daemon=True,
                            args=(spec, index_queue, self._results, self._done, base_seed,
                                  worker_id, self._num_workers))
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._shut = False
        self._epoch_id = -1
        self.reset(tasks, first=True)

    # ----------------------------------------------------------------- epochs and tasks
    def reset(self, tasks, first=False):
        """Start an epoch over ``tasks`` (None: an iterable dataset's next batches)."""
        self._epoch_id += 1
        if not first and self._iterable:
            for q in self._index_queues:
                q.put(("reset", self._epoch_id, None, None))
        self._tasks = tasks
        self._send_idx = self._rcvd_idx = 0
        self._in_flight = {}          # task number -> worker id
        self._ready = {}              # task number -> (status, value)
        self._active = [True] * self._num_workers
        self._next_worker = 0
        self._fill()

    def _more_to_send(self):
        if self._iterable:
            return any(self._active)
        return self._send_idx < len(self._tasks)

    def _fill(self):
        while len(self._in_flight) < self._prefetch and self._more_to_send():
            for _ in range(self._num_workers):
                worker_id = self._next_worker
                self._next_worker = (self._next_worker + 1) % self._num_workers
                if self._active[worker_id]:
                    break
            payload = None if self._iterable else self._tasks[self._send_idx]
            self._index_queues[worker_id].put(("task", self._epoch_id, self._send_idx, payload))
            self._in_flight[self._send_idx] = worker_id
            self._send_idx += 1

    # ----------------------------------------------------------------- iteration
    def __iter__(self):
        return self

    def __next__(self):
        while True:
            found = self._take_ready()
            if found is not None:
                status, value = found
                self._fill()
                if status == "error":
                    value.reraise()
                return value
            if not self._in_flight and not self._more_to_send():
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            self._receive()

    def _take_ready(self):
        """The next result to yield, skipping exhausted-worker tasks; None if not arrived."""
        while True:
            if self._in_order:
                if self._rcvd_idx not in self._ready:
                    return None
                found = self._ready.pop(self._rcvd_idx)
                self._rcvd_idx += 1
            else:
                if not self._ready:
                    return None
                found = self._ready.pop(next(iter(self._ready)))
            if found is not _SKIPPED:
                return found

    def _receive(self):
        waited = 0.0
        while True:
            step = STATUS_INTERVAL if not self._timeout else min(STATUS_INTERVAL,
                                                                 self._timeout - waited)
            try:
                raw = self._results.get(timeout=max(step, 0.01))
                break
            except queue.Empty:
                waited += step
                self._check_workers_alive()
                if self._timeout and waited >= self._timeout:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        epoch_id, task_idx, status, value = pickle.loads(raw)
        if epoch_id != self._epoch_id:
            return   # a result of an epoch that was broken off
        worker_id = self._in_flight.pop(task_idx)
        if status == "stop":
            self._active[worker_id] = False
            self._ready[task_idx] = _SKIPPED
        else:
            self._ready[task_idx] = (status, value)

    def _check_workers_alive(self):
        dead = [w for w in self._workers if not w.is_alive()]
        if dead:
            self._shutdown()
            pids = ", ".join(f"{w.pid} (exit code {w.exitcode})" for w in dead)
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly; if the "
                               f"dataset runs minitorch kernels, numba's OpenMP threads cannot "
                               f"run in a forked worker: pass multiprocessing_context='spawn'")

    # ----------------------------------------------------------------- shutdown
    def _shutdown(self):
        if self._shut or sys.is_finalizing():
            return
        self._shut = True
        self._done.set()
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + _JOIN_SECONDS
        for w in self._workers:
            w.join(max(0.0, deadline - time.monotonic()))
        for w in self._workers:
            if w.is_alive():
                w.terminate()
                w.join(1.0)
        for q in self._index_queues:
            q.close()
        self._results.cancel_join_thread()
        self._results.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:
            pass
