"""Samplers: deterministic per (seed, epoch), and DistributedSampler's shard/union contract."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minitorch.data import (DataError, DistributedSampler, RandomSampler, SequentialSampler,
                            epoch_permutation)


def test_sequential_sampler_is_in_order():
    assert list(SequentialSampler(5)) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(list(range(7)))) == 7


def test_random_sampler_is_a_function_of_seed_and_epoch():
    a, b = RandomSampler(50, seed=1), RandomSampler(50, seed=1)
    first = list(a)
    assert first == list(b) and sorted(first) == list(range(50))
    a.set_epoch(1)
    second = list(a)
    assert second != first and sorted(second) == list(range(50))
    b.set_epoch(1)
    assert list(b) == second
    a.set_epoch(0)
    assert list(a) == first
    assert list(RandomSampler(50, seed=2)) != first


def test_random_sampler_reshuffles_on_every_new_iteration_as_torch():
    s = RandomSampler(30, seed=4)
    orders = [list(s) for _ in range(3)]
    assert orders[0] != orders[1] != orders[2]
    replay = RandomSampler(30, seed=4)
    assert [list(replay) for _ in range(3)] == orders


def test_random_sampler_rejects_negative_seed():
    with pytest.raises(DataError, match="seed"):
        RandomSampler(10, seed=-1)


@pytest.mark.parametrize("n,replicas", [(100, 4), (103, 4), (7, 3), (10, 1)])
def test_distributed_shards_are_disjoint_and_cover_the_epoch(n, replicas):
    shards = [list(DistributedSampler(n, replicas, r, seed=3)) for r in range(replicas)]
    sizes = {len(s) for s in shards}
    assert sizes == {-(-n // replicas)}
    flat = [i for s in shards for i in s]
    assert set(flat) == set(range(n))               # every sample is seen
    # Only the wrap-around padding repeats samples.
    assert len(flat) - len(set(flat)) == len(flat) - n


def test_distributed_drop_last_truncates_to_disjoint_shards():
    shards = [list(DistributedSampler(103, 4, r, drop_last=True)) for r in range(4)]
    flat = [i for s in shards for i in s]
    assert len(flat) == len(set(flat)) == 100


def test_one_replica_equals_random_sampler_order():
    for epoch in (0, 5):
        dist, rand = DistributedSampler(37, 1, 0, seed=9), RandomSampler(37, seed=9)
        dist.set_epoch(epoch)
        rand.set_epoch(epoch)
        assert list(dist) == list(rand)


@pytest.mark.parametrize("replicas,batch", [(2, 4), (3, 5), (4, 8)])
def test_union_of_rank_batches_is_the_global_batch(replicas, batch):
    n, epoch = 240, 2
    order = epoch_permutation(n, 11, epoch)
    shards = []
    for r in range(replicas):
        s = DistributedSampler(n, replicas, r, seed=11)
        s.set_epoch(epoch)
        shards.append(np.array(list(s)))
    global_batch = batch * replicas
    for i in range(n // global_batch):
        union = np.concatenate([s[i * batch:(i + 1) * batch] for s in shards])
        expected = order[i * global_batch:(i + 1) * global_batch]
        assert sorted(union) == sorted(expected)


def test_distributed_epochs_differ_and_shuffle_false_is_strided():
    s = DistributedSampler(20, 2, 1, shuffle=False)
    assert list(s) == list(range(1, 20, 2))
    t = DistributedSampler(20, 2, 1, seed=0)
    first = list(t)
    t.set_epoch(1)
    assert list(t) != first


def test_distributed_bad_arguments_name_the_culprit():
    with pytest.raises(DataError, match="smaller than the number of replicas"):
        DistributedSampler(3, 4, 0)
    with pytest.raises(DataError, match="rank 2"):
        DistributedSampler(10, 2, 2)
    with pytest.raises(DataError, match="num_replicas 0"):
        DistributedSampler(10, 0, 0)


def test_tiny_dataset_wraps_repeatedly():
    shards = [list(DistributedSampler(2, 2, r, shuffle=False)) for r in range(2)]
    assert shards == [[0], [1]]


def test_unpadded_shards_count_every_sample_once():
    shards = [list(DistributedSampler(11, 3, r, shuffle=False, pad=False)) for r in range(3)]
    assert [len(s) for s in shards] == [4, 4, 3]
    assert sorted(i for s in shards for i in s) == list(range(11))
    assert len(DistributedSampler(11, 3, 2, pad=False)) == 3


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 2, False),
                                                  (17, 4, False)])
def test_unshuffled_shards_match_torch(n, replicas, drop_last):
    pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchDistributedSampler
    for rank in range(replicas):
        ours = DistributedSampler(n, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchDistributedSampler(range(n), replicas, rank, shuffle=False,
                                         drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 200), replicas=st.integers(1, 6), batch=st.integers(1, 9),
       seed=st.integers(0, 2 ** 32), epoch=st.integers(0, 50), drop_last=st.booleans())
def test_union_property_for_any_sizes(n, replicas, batch, seed, epoch, drop_last):
    if n < replicas:
        return
    shards = []
    for r in range(replicas):
        s = DistributedSampler(n, replicas, r, seed=seed, drop_last=drop_last)
        s.set_epoch(epoch)
        shards.append(s.indices())
    order = DistributedSampler(n, 1, 0, seed=seed)
    order.set_epoch(epoch)
    global_order = order.indices()
    full_batches = min(len(s) for s in shards) // batch
    if drop_last:
        assert full_batches == n // (batch * replicas)
    for i in range(full_batches):
        union = np.concatenate([s[i * batch:(i + 1) * batch] for s in shards])
        expected = global_order[i * batch * replicas:(i + 1) * batch * replicas]
        if (i + 1) * batch * replicas <= n:        # a batch before any wrapped padding
            assert sorted(union.tolist()) == sorted(expected.tolist())
