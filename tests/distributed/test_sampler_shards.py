"""The data side of data parallelism, which GradientSync relies on: rank r's batch i, over all
ranks, is exactly global batch i of a one-process run with batch size B x R."""
import numpy as np
import pytest

from minitorch.data import DataLoader, DistributedSampler


@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("epoch", [0, 5])
def test_rank_batches_union_to_the_one_process_global_batch(world, epoch):
    n, per_rank, seed = 48, 4, 7
    data = range(n)
    alone = DataLoader(data, batch_size=per_rank * world, shuffle=True, seed=seed)
    alone.set_epoch(epoch)
    shards = []
    for r in range(world):
        loader = DataLoader(data, batch_size=per_rank, seed=seed,
                            sampler=DistributedSampler(n, world, r, shuffle=True, seed=seed))
        loader.set_epoch(epoch)
        shards.append(loader.batch_indices())
    global_batches = alone.batch_indices()
    assert all(len(s) == len(global_batches) for s in shards)  # ranks step in lockstep
    for i, batch in enumerate(global_batches):
        union = np.concatenate([s[i] for s in shards])
        assert sorted(union.tolist()) == sorted(batch.tolist()), f"global batch {i}"


def test_shards_are_disjoint_and_cover_the_epoch():
    shards = [DistributedSampler(40, 4, r, seed=1) for r in range(4)]
    for s in shards:
        s.set_epoch(3)
    seen = np.concatenate([s.indices() for s in shards])
    assert sorted(seen.tolist()) == list(range(40))
