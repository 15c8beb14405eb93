"""``kernels.gemm.matmul``: a product cut into pieces on a thread pool gives numpy's product."""
import os
import signal
import time

import numpy as np
import pytest

from minitorch.kernels import gemm


@pytest.fixture(autouse=True)
def restore_threads():
    before = gemm.get_num_threads()  # the session's (tests/conftest.py configures it)
    yield
    gemm.set_num_threads(before)


@pytest.fixture
def two_threads():
    gemm.set_num_threads(2)


def _operands(sa, sb, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)


@pytest.mark.parametrize("sa,sb", [
    ((16, 64, 64), (16, 64, 3000)),      # many planes: whole planes per piece
    ((3, 96, 200), (3, 200, 700)),       # few planes: each plane's rows or columns split
    ((1000, 300), (300, 64)),            # 2-d, more rows than columns: row blocks
    ((64, 300), (300, 5000)),            # 2-d, more columns: column blocks (strided output)
    ((37, 301), (301, 1111)),            # sizes that split unevenly
])
def test_split_product_matches_numpy_and_writes_every_element(two_threads, sa, sb):
    a, b = _operands(sa, sb)
    out = np.full(np.broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-1]), np.nan, np.float32)
    assert gemm.matmul(a, b, out) is out
    np.testing.assert_allclose(out, np.matmul(a.astype(np.float64), b), rtol=2e-5, atol=2e-4)
    assert not np.isnan(out).any()


def test_transposed_views_and_float64(two_threads):
    a, b = _operands((16, 300, 64), (16, 300, 80), np.float64)
    out = np.empty((16, 64, 80))
    gemm.matmul(a.transpose(0, 2, 1), b, out)
    np.testing.assert_allclose(out, np.matmul(a.transpose(0, 2, 1), b), rtol=1e-12)
    a2, b2 = _operands((500, 64), (500, 700), np.float64)
    out2 = np.empty((64, 700))
    gemm.matmul(a2.T, b2, out2)
    np.testing.assert_allclose(out2, a2.T @ b2, rtol=1e-12)


def test_planes_split_gives_bitwise_the_single_thread_result(two_threads):
    # whole planes per piece: each plane is the same BLAS call as without the pool
    a, b = _operands((16, 64, 64), (16, 64, 2000))
    out = np.empty((16, 64, 2000), np.float32)
    gemm.matmul(a, b, out)
    gemm.set_num_threads(1)
    ref = np.empty_like(out)
    gemm.matmul(a, b, ref)
    np.testing.assert_array_equal(out, ref)


def test_tiny_products_and_one_thread_take_plain_matmul(monkeypatch):
    calls = []
    monkeypatch.setattr(gemm, "_split", lambda *a: calls.append(a) or [])
    a, b = _operands((8, 8), (8, 8))
    out = np.empty((8, 8), np.float32)
    gemm.set_num_threads(1)
    gemm.matmul(a, b, out)                       # one thread
    gemm.set_num_threads(2)
    gemm.matmul(a, b, out)                       # too small to split
    assert calls == []
    np.testing.assert_allclose(out, a @ b, rtol=1e-6)


def test_pool_size_follows_set_num_threads():
    gemm.set_num_threads(3)
    assert gemm.get_num_threads() == 3
    gemm.set_num_threads(0)  # clamps to 1: plain matmul, no pool
    assert gemm.get_num_threads() == 1 and gemm._state["pool"] is None


def test_the_caller_never_waits_for_a_pool_thread_that_has_not_started(two_threads, monkeypatch):
    # a pool thread whose core is busy may not run for a long time: the caller does every piece
    # itself and returns (a pool that waited for each of its threads would hang here)
    class NeverDelivered:
        def put(self, job):
            pass

    pool = gemm._state["pool"]
    monkeypatch.setattr(pool, "queues", [NeverDelivered()])
    a, b = _operands((16, 64, 64), (16, 64, 3000))
    out = np.full((16, 64, 3000), np.nan, np.float32)
    gemm.matmul(a, b, out)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-5, atol=1e-4)


def test_a_failing_piece_raises_in_the_caller_after_the_others_finish(two_threads):
    a, b = _operands((16, 64, 64), (16, 64, 3000))
    out = np.empty((16, 64, 3000), np.int32)  # numpy refuses to cast float32 products into int32
    with pytest.raises(TypeError):
        gemm.matmul(a, b, out)
    good = np.empty((16, 64, 3000), np.float32)  # and the pool still works afterwards
    gemm.matmul(a, b, good)
    np.testing.assert_allclose(good, np.matmul(a, b), rtol=1e-5, atol=1e-4)


def test_products_from_two_threads_at_once_are_both_right(two_threads):
    import threading
    ops = [_operands((16, 64, 64), (16, 64, 2000), seed=s) for s in (1, 2)]
    outs = [np.empty((16, 64, 2000), np.float32) for _ in ops]
    threads = [threading.Thread(target=gemm.matmul, args=(a, b, o)) for (a, b), o in zip(ops, outs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for (a, b), o in zip(ops, outs):
        np.testing.assert_allclose(o, np.matmul(a, b), rtol=1e-5, atol=1e-4)


def test_a_forked_child_gets_its_own_pool_and_finishes_its_products(two_threads):
    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    a, b = _operands((16, 64, 64), (16, 64, 3000))
    ref = np.matmul(a, b)
    gemm.matmul(a, b, np.empty_like(ref))  # the parent's pool thread exists now
    pid = os.fork()
    if pid == 0:  # child: a wrong result exits 1, a hang is killed below
        out = np.empty_like(ref)
        gemm.matmul(a, b, out)
        os._exit(0 if np.allclose(out, ref, rtol=1e-5, atol=1e-4) else 1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child hung in gemm.matmul (its pool threads are gone)")


def test_a_thin_product_is_cut_into_few_tall_row_blocks(two_threads):
    # batch-1 layer4: every piece re-packs the long right operand, so pieces stay >= 128 rows
    a, b = _operands((512, 4608), (4608, 49))
    pieces = gemm._split(a, b, np.empty((512, 49), np.float32), 8)
    assert len(pieces) == 4 and all(pa.shape[0] == 128 for pa, _, _ in pieces)
    assert len(gemm._split(a[:100], b, np.empty((100, 49), np.float32), 8)) == 1
    wide = gemm._split(a, b[:, :48].repeat(2, axis=1), np.empty((512, 96), np.float32), 8)
    assert len(wide) == 8  # 64 columns or more: the usual blocks
    out = np.full((512, 49), np.nan, np.float32)
    gemm.matmul(a, b, out)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=2e-5, atol=2e-3)


_UNCONFIGURED = r'''
import json, numpy as np, numba
from threadpoolctl import threadpool_info
from minitorch.kernels import gemm

def blas_threads():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

before, during = blas_threads(), []
real = np.matmul
class Spy:  # what the pool's pieces see: the module's np, with matmul recorded
    def __getattr__(self, name):
        return getattr(np, name)
    @staticmethod
    def matmul(*a, **k):
        during.extend(blas_threads())
        return real(*a, **k)
gemm.np = Spy()
a, b = np.ones((16, 64, 64), np.float32), np.ones((16, 64, 3000), np.float32)
out = gemm.matmul(a, b, np.empty((16, 64, 3000), np.float32))
after, limited = blas_threads(), sorted(set(during))
auto = gemm.get_num_threads()
gemm.set_num_threads(2)
del during[:]
gemm.matmul(a, b, out)
print(json.dumps({"before": before, "during": limited, "after": after,
                  "ok": bool((out == 64).all()), "auto": auto, "numba": numba.get_num_threads(),
                  "explicit": sorted(set(during))}))
'''


def test_unconfigured_products_run_one_blas_thread_each_and_restore_it():
    # without runtime.configure: the pool takes numba's threads and BLAS is limited to one
    # thread only while minitorch's own product runs; set_num_threads then leaves BLAS alone
    import json
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "2"   # (what a 2-core machine has by default)
    out = subprocess.run([sys.executable, "-c", _UNCONFIGURED], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["before"] == r["after"] == [2] and r["during"] == [1] and r["ok"]
    assert r["auto"] == r["numba"] and r["explicit"] == [2]


def test_run_tasks_runs_every_task_once_on_both_threads(two_threads):
    import threading
    seen, ran = set(), []

    def task(i):
        time.sleep(0.01)   # long enough that the pool thread takes some
        seen.add(threading.get_ident())
        ran.append(i)
    gemm.run_tasks(task, [(i,) for i in range(12)])
    assert sorted(ran) == list(range(12)) and len(seen) == 2


def test_a_failing_task_raises_in_the_caller_after_the_others_finish(two_threads):
    ran = []

    def task(i):
        if i == 3:
            raise ValueError("task 3")
        time.sleep(0.005)
        ran.append(i)
    with pytest.raises(ValueError, match="task 3"):
        gemm.run_tasks(task, [(i,) for i in range(8)])
    assert sorted(ran) == [0, 1, 2, 4, 5, 6, 7]


def test_run_tasks_on_one_thread_runs_them_in_order():
    gemm.set_num_threads(1)
    ran = []
    gemm.run_tasks(ran.append, [(i,) for i in range(5)])
    assert ran == [0, 1, 2, 3, 4]
