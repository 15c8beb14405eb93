"""Each rank's thread count is its share of the cores its machine's ranks share."""
from minitorch.distributed.threads import threads_per_rank


def test_two_unpinned_ranks_on_two_cores_get_one_thread_each():
    assert threads_per_rank(cores=2, ranks_sharing=2, own_cores=2, environ={}) == 1


def test_share_rounds_down_but_never_below_one():
    assert threads_per_rank(cores=8, ranks_sharing=3, own_cores=8, environ={}) == 2
    assert threads_per_rank(cores=2, ranks_sharing=4, own_cores=2, environ={}) == 1


def test_pinned_rank_never_exceeds_its_own_cores():
    # 4 ranks pinned to 2 cores each on 8 cores: share 2, own 2.
    assert threads_per_rank(cores=8, ranks_sharing=4, own_cores=2, environ={}) == 2
    assert threads_per_rank(cores=16, ranks_sharing=2, own_cores=4, environ={}) == 4


def test_user_thread_variables_cap_the_count():
    assert threads_per_rank(cores=16, ranks_sharing=2, own_cores=16,
                            environ={"OMP_NUM_THREADS": "3"}) == 3
    assert threads_per_rank(cores=16, ranks_sharing=2, own_cores=16,
                            environ={"OMP_NUM_THREADS": "", "NUMBA_NUM_THREADS": "x"}) == 8


def test_two_ranks_each_take_half_the_cores(mpi):
    import json
    import os
    import re
    from pathlib import Path

    from .conftest import worker_env
    env = worker_env()
    for name in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
    proc = mpi([Path(__file__).with_name("worker_threads.py")], n=2, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    want = max(1, len(os.sched_getaffinity(0)) // 2)
    # mpiexec may interleave the two ranks' lines: pick the JSON objects out of the stream.
    reports = [json.loads(obj) for obj in re.findall(r"\{[^{}]*\}", proc.stdout)]
    assert sorted(r["rank"] for r in reports) == [0, 1]
    for r in reports:
        assert r["numba"] == want and all(n == want for n in r["blas"]), reports
