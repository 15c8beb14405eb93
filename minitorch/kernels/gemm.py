"""Matrix products on minitorch's own small thread pool, single-threaded BLAS in each thread.

Why not just let OpenBLAS thread the product: its threads split every product statically and
meet at a barrier after each block of the reduction. When one core is busy with other work (a
shared machine, CI, a laptop) the thread on it falls behind at every block and the other waits:
measured, long-reduction products (weight gradients) ran up to 100x slower. Small products (32x32
images) gain little from two BLAS threads anyway. Here a product is cut into independent pieces
(planes of a batched product, or blocks of rows or columns of the output; each output element is
still one BLAS dot product over the full reduction, so the numbers do not depend on the split),
and the pool's threads take the next piece when they are free: a thread on a busy core simply
does fewer pieces, and the calling thread, which takes pieces too, waits only for pieces already
taken, never for a pool thread to wake up (see ``_Job``). numpy releases the GIL inside
``matmul``, so the threads run in parallel.

This only pays when BLAS itself runs one thread. Until ``set_num_threads`` is called (what
``minitorch.runtime.configure`` does, after making BLAS single-threaded for the process) the
pool follows numba's thread count and each product here runs with BLAS limited to one thread
for its duration, restored after it (``_one_blas_thread``): the program's own numpy products
keep their threads, and a script that never calls ``configure`` is not left with two BLAS
threads and numba's threads competing for the same cores (measured, a small CNN's training step
2.5-3x slower). Without threadpoolctl, or a BLAS it cannot reach, products are plain
``np.matmul``.
"""
import contextlib
import itertools
import os
import queue
import threading

import numpy as np

__all__ = ["matmul", "run_tasks", "batch_slices", "sum_over_groups", "set_num_threads",
           "get_num_threads", "warm_blas"]

# "auto": no set_num_threads yet, see the module docstring; "blas": the BLAS libraries'
# threadpoolctl controllers (None until the first product), "warm": BLAS's slow start is over
_state = {"threads": 1, "pool": None, "auto": True, "blas": None, "warm": False}
_lock = threading.Lock()

# a piece below this many flops costs more in Python overhead (~20 us) than it saves
_MIN_PIECE_FLOPS = 2_000_000
# pieces per thread: enough for a thread on a busy core to fall behind gracefully
_PIECES_PER_THREAD = 4
# A thin product (fewer output columns than this) is cut into row blocks of at least
# _THIN_MIN_ROWS: every piece packs the whole right operand again, and at batch 1 that operand is
# the long reduction (layer4's 4608x49 columns, 0.9 MB). Measured (CPU time, all threads):
# 512x4608 @ 4608x49 in 8 pieces of 64 rows 10.5 ms, 4 of 128 rows 8.0 ms, 2 of 256 rows 7.7 ms.
_THIN_COLUMNS, _THIN_MIN_ROWS = 64, 128


class _Job:
    """One product's pieces (or ``run_tasks``' tasks), taken by whichever thread is free.

    The caller never waits for a pool thread that has not started: it runs pieces itself and
    then waits only for pieces already taken (``pending`` reaching 0). A pool thread that wakes
    late finds the pieces gone and goes back to sleep. Waiting for every pool thread instead (as a
    ``ThreadPoolExecutor`` future does) cost ~95 us per product, the pool thread's wake-up, even
    when the caller had done every piece, and much more when that thread's core was busy.
    """
    __slots__ = ("fn", "work", "finished", "count", "done", "error", "errstate")

    def __init__(self, tasks, fn):
        self.fn = fn
        # numpy's floating-point error handling is per thread: the pool threads take the
        # caller's (a Trainer silences overflow warnings that its own check reports)
        self.errstate = np.geterr()
        self.work = iter(tasks)  # next() on a list iterator is atomic under the GIL
        self.finished = itertools.count(1)  # so is next() on a count: no lock per piece
        self.count = len(tasks)
        self.done = threading.Lock()
        self.done.acquire()  # released by whichever thread finishes the last piece
        self.error = None

    def run(self):
        with np.errstate(**self.errstate):
            for task in self.work:
                try:
                    self.fn(*task)
                except BaseException as e:  # noqa: BLE001  (re-raised in the caller's thread)
                    self.error = e
                if next(self.finished) == self.count:
                    self.done.release()


class _Pool:
    """``n - 1`` daemon threads, each waiting on its own queue for jobs (None: stop)."""

    def __init__(self, n):
        self.queues = [queue.SimpleQueue() for _ in range(n - 1)]
        for i, q in enumerate(self.queues):
            threading.Thread(target=_serve, args=(q,), name=f"minitorch-gemm_{i}",
                             daemon=True).start()

    def run(self, tasks, fn):
        job = _Job(tasks, fn)
        for q in self.queues[:len(tasks) - 1]:
            q.put(job)
        job.run()
        job.done.acquire()
        if job.error is not None:
            raise job.error

    def shutdown(self):
        for q in self.queues:
            q.put(None)


def _serve(q):
    while True:
        job = q.get()
        if job is None:
            return
        job.run()
        # not kept while waiting for the next one: a task's closure holds its arrays (a whole
        # activation of the batch)
        job = None


def set_num_threads(n: int) -> None:
    """Run products on ``n`` threads (this one and ``n - 1`` pool threads); 1 = plain matmul.
    From then on BLAS is left as it is (``configure`` makes it single-threaded first)."""
    _state["auto"] = False
    _resize(max(1, int(n)))


def _resize(n):
    with _lock:
        old = _state["pool"]
        _state["pool"] = _new_pool(n)
        _state["threads"] = n
    if old is not None:
        old.shutdown()


def _blas_libraries():
    """threadpoolctl's controllers of the loaded BLAS libraries (found once; [] without it)."""
    if _state["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController
            _state["blas"] = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # noqa: BLE001  (no threadpoolctl, or it cannot inspect this process)
            _state["blas"] = []
    return _state["blas"]


def _auto_threads() -> int:
    """The pool size while ``set_num_threads`` was never called: numba's thread count when
    BLAS can be limited per product, else 1."""
    if not _blas_libraries():
        return 1
    import numba
    n = numba.get_num_threads()
    if n != _state["threads"]:
        _resize(n)
    return n


def warm_blas() -> None:
    """One product above the size where OpenBLAS's single-thread slow start ends (~1-2 ms).

    Measured (OpenBLAS 0.3.31, 1 thread): before the process's first product of more than ~25M
    multiply-adds, 128x576 @ 576x196 takes 2.4 ms; after it, 0.77 ms, in every thread. 128x576 @
    576x300 (22M) does not end it, 128x576 @ 576x392 (29M) does.
    """
    _state["warm"] = True
    np.ones((128, 576), np.float32) @ np.ones((576, 512), np.float32)


def _new_pool(n):
    return _Pool(n) if n > 1 else None


def _after_fork_in_child():
    # a forked child has none of the parent's pool threads: work handed to the inherited
    # pool would never run, so the child gets a pool of its own
    global _lock
    _lock = threading.Lock()
    _state["pool"] = _new_pool(_state["threads"])


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def get_num_threads() -> int:
    return _auto_threads() if _state["auto"] else _state["threads"]


def matmul(a, b, out):
    """``out[...] = a @ b`` for 2-d operands or equal-length stacks of them; returns ``out``."""
    if not _state["auto"]:
        return _matmul(a, b, out, _state["threads"], _state["pool"])
    n = _auto_threads()
    if n == 1:
        np.matmul(a, b, out=out)
        return out
    with _one_blas_thread():
        if not _state["warm"]:
            warm_blas()
        return _matmul(a, b, out, n, _state["pool"])


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS limited to one thread inside, each library's count restored after."""
    libs = _state["blas"]
    before = [lib.num_threads for lib in libs]
    for lib, k in zip(libs, before):
        if k != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, k in zip(libs, before):
            if k != 1:
                lib.set_num_threads(k)


def _matmul(a, b, out, n, pool):
    M, K = a.shape[-2:]
    N = b.shape[-1]
    batch = a.shape[0] if a.ndim == 3 else 1
    flops = 2 * batch * M * N * K
    pieces = min(n * _PIECES_PER_THREAD, flops // _MIN_PIECE_FLOPS)
    if pool is None or pieces < 2:
        np.matmul(a, b, out=out)
        return out
    pool.run(_split(a, b, out, int(pieces)), _product)
    return out


def _product(a, b, out):
    np.matmul(a, b, out=out)


def run_tasks(fn, tasks) -> None:
    """``fn(*task)`` for every task, on the product threads (this one too), each task on one
    thread and with BLAS on one thread: for pipelines of serial, GIL-free kernels and
    single-threaded products over independent slices (``ops.conv_winograd.forward_pipelined``).
    ``fn`` must not call ``matmul`` (a task is already one thread's work). The first error a
    task raises is raised here, after every task has finished."""
    tasks = list(tasks)
    if _state["auto"]:
        n = _auto_threads()
        with _one_blas_thread():
            _run_tasks(fn, tasks, n, _state["pool"])
        return
    _run_tasks(fn, tasks, _state["threads"], _state["pool"])


def _run_tasks(fn, tasks, n, pool):
    if pool is None or n == 1 or len(tasks) < 2:
        for task in tasks:
            fn(*task)
        return
    pool.run(tasks, fn)


def batch_slices(N, images, min_slices=4):
    """(n0, n1) slices of a batch of ``N`` for ``run_tasks``: ``images`` each (at least one), or
    fewer so that there are at least ``min_slices`` (a thread on a busy core takes fewer)."""
    step = max(1, min(images, -(-N // min_slices)))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


# sum_over_groups' groups of consecutive slices
_GROUPS = 4


def sum_over_groups(fn, slices):
    """``fn(group)`` for ``_GROUPS`` runs of consecutive ``slices``, each run on one thread, and
    the results (arrays, or all None) summed in the runs' order: the same sums in the same order
    whatever the threads and their timing, so a pipelined gradient is the same bits on every
    run and thread count. The first result is summed into."""
    k = min(_GROUPS, len(slices))
    groups = [slices[i * len(slices) // k:(i + 1) * len(slices) // k] for i in range(k)]
    results = [None] * k

    def task(i):
        results[i] = fn(groups[i])
    run_tasks(task, [(i,) for i in range(k)])
    total = results[0]
    if total is not None:
        for part in results[1:]:
            total += part
    return total


def _bounds(length, pieces, align):
    """About ``pieces`` contiguous ranges covering ``range(length)``, cut at ``align`` multiples."""
    step = max(align, -(-length // pieces // align) * align)
    return [(i, min(length, i + step)) for i in range(0, length, step)]


def _split(a, b, out, pieces):
    if a.ndim == 3 and a.shape[0] >= pieces // 2:
        # planes first (whole independent products), a few planes per piece
        return [(a[i:j], b[i:j], out[i:j]) for i, j in _bounds(a.shape[0], pieces, 1)]
    if a.ndim == 3:  # few planes: split each plane's rows or columns
        per = max(1, pieces // a.shape[0])
        return [t for i in range(a.shape[0]) for t in _split(a[i], b[i], out[i], per)]
    M, N = a.shape[0], b.shape[1]
    if M >= N:  # rows of the output (contiguous blocks of ``out``)
        if N < _THIN_COLUMNS:
            pieces = max(1, min(pieces, M // _THIN_MIN_ROWS))
        return [(a[i:j], b, out[i:j]) for i, j in _bounds(M, pieces, 16)]
    return [(a, b[:, i:j], out[:, i:j]) for i, j in _bounds(N, pieces, 64)]
