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
