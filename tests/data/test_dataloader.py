"""DataLoader: batching, determinism per (seed, epoch), drop_last, collation."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.data import (Compose, DataError, DataLoader, DistributedSampler,
                            RandomHorizontalFlip, RandomCrop, TensorDataset, default_collate)
from minitorch.data.datasets.base import InMemoryImageDataset


def _dataset(n=23):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return TensorDataset(x, np.arange(n, dtype=np.int64))


def _labels(loader):
    return [y.numpy().tolist() for _, y in loader]


def test_batches_are_tensors_in_order_without_shuffle():
    batches = list(DataLoader(_dataset(), batch_size=10))
    assert [b[0].shape for b in batches] == [(10, 2), (10, 2), (3, 2)]
    assert isinstance(batches[0][0], mt.Tensor)
    assert batches[0][1].dtype == mt.int64 and batches[0][0].dtype == mt.float32
    assert np.array_equal(batches[2][1].numpy(), [20, 21, 22])
    np.testing.assert_array_equal(batches[1][0].numpy(), _dataset().arrays()[0][10:20])


def test_len_and_drop_last():
    assert len(DataLoader(_dataset(), batch_size=10)) == 3
    loader = DataLoader(_dataset(), batch_size=10, drop_last=True)
    assert len(loader) == 2
    assert [len(y) for y in _labels(loader)] == [10, 10]


def test_same_seed_and_epoch_give_the_same_order():
    a = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=5)
    b = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=5)
    a.set_epoch(3)
    b.set_epoch(3)
    assert _labels(a) == _labels(b)
    flat = sorted(i for batch in _labels(a) for i in batch)
    assert flat == list(range(23))


def test_epochs_and_seeds_change_the_order():
    loader = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=5)
    loader.set_epoch(0)
    e0 = _labels(loader)
    loader.set_epoch(1)
    assert _labels(loader) != e0
    other = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=6)
    other.set_epoch(0)
    assert _labels(other) != e0


def test_iterating_again_advances_the_epoch_and_resume_replays_it():
    loader = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=1)
    run = [_labels(loader) for _ in range(3)]           # epochs 0, 1, 2 implicitly
    assert run[0] != run[1] != run[2]
    resumed = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=1)
    resumed.set_epoch(2)
    assert _labels(resumed) == run[2]


def test_user_sampler_keeps_the_epoch_the_user_set():
    sampler = DistributedSampler(23, 1, 0, seed=4)
    loader = DataLoader(_dataset(), batch_size=5, sampler=sampler)
    sampler.set_epoch(7)
    first = _labels(loader)
    assert _labels(loader) == first                     # no implicit advance
    sampler.set_epoch(8)
    assert _labels(loader) != first


def test_sampler_and_shuffle_are_exclusive_and_batch_size_is_checked():
    with pytest.raises(DataError, match="mutually exclusive"):
        DataLoader(_dataset(), sampler=DistributedSampler(23, 1, 0), shuffle=True)
    with pytest.raises(DataError, match="batch_size 0"):
        DataLoader(_dataset(), batch_size=0)


def test_generator_argument_fixes_the_seed():
    a = DataLoader(_dataset(), batch_size=4, shuffle=True, generator=np.random.default_rng(3))
    b = DataLoader(_dataset(), batch_size=4, shuffle=True, generator=np.random.default_rng(3))
    assert a.seed == b.seed and _labels(a) == _labels(b)


class _ItemOnly:
    """A dataset without the batch protocol: the loader must collate items itself."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full((2, 2), i, dtype=np.float32), i


def test_item_datasets_are_collated_like_the_batch_path():
    batches = list(DataLoader(_ItemOnly(), batch_size=2))
    assert [b[1].numpy().tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0][0].shape == (2, 2, 2) and batches[0][1].dtype == mt.int64


def test_default_collate_follows_torch_types():
    out = default_collate([(np.zeros(3, np.float32), 1, 0.5, "a", {"k": True}),
                           (np.ones(3, np.float32), 2, 1.5, "b", {"k": False})])
    x, ints, floats, strs, d = out
    assert x.shape == (2, 3) and x.dtype == mt.float32
    assert ints.dtype == mt.int64 and floats.dtype == mt.float64
    assert strs == ("a", "b") and d["k"].dtype == mt.bool   # a tuple of strings, as torch
    stacked = default_collate([mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0])])
    assert stacked.numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def _augmented(n=12):
    images = np.random.default_rng(0).random((n, 3, 6, 6), dtype=np.float32)
    aug = Compose([RandomCrop(6, padding=2), RandomHorizontalFlip()])
    return InMemoryImageDataset(images, np.arange(n) % 3, ["a", "b", "c"], 0.5, 0.25, aug)


def test_augmentation_is_reproducible_and_independent_of_batch_size():
    ds = _augmented()
    runs = []
    for batch_size in (1, 5, 12):
        loader = DataLoader(ds, batch_size=batch_size, shuffle=True, seed=2)
        loader.set_epoch(4)
        runs.append(np.concatenate([x.numpy() for x, _ in loader]))
    # The same samples in the same order (same seed/epoch), each augmented identically.
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])
    loader = DataLoader(ds, batch_size=12, shuffle=True, seed=2)
    loader.set_epoch(5)
    assert not np.array_equal(np.concatenate([x.numpy() for x, _ in loader]), runs[0])


def test_batch_path_equals_item_path():
    ds = _augmented()
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=8)
    loader.set_epoch(1)
    fast = [x.numpy() for x, _ in loader]
    items = DataLoader(ds, batch_size=4, shuffle=True, seed=8,
                       collate_fn=default_collate)       # forces the per-item path
    items.set_epoch(1)
    slow = [x.numpy() for x, _ in items]
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


def test_rank_loaders_rebuild_the_one_process_global_batches_with_the_same_augmentation():
    """What data-parallel training relies on: R loaders with batch B see, batch by batch,
    exactly the samples (augmented identically) of one loader with batch B*R."""
    ds, replicas, batch = _augmented(24), 3, 2
    ds.targets = np.arange(24)                      # labels name the samples
    single = DataLoader(ds, batch_size=batch * replicas,
                        sampler=DistributedSampler(ds, 1, 0, seed=6))
    ranks = [DataLoader(ds, batch_size=batch, sampler=DistributedSampler(ds, replicas, r, seed=6))
             for r in range(replicas)]
    for loader in [single] + ranks:
        loader.set_epoch(2)
    steps = 0
    for (x, y), *parts in zip(single, *ranks):
        whole = dict(zip(y.numpy().tolist(), x.numpy()))
        split = {int(i): row for p in parts for i, row in zip(p[1].numpy(), p[0].numpy())}
        assert sorted(whole) == sorted(split)
        for i in whole:
            np.testing.assert_array_equal(whole[i], split[i])
        steps += 1
    assert steps == len(single) == 4


def test_is_random_reports_augmentation():
    assert _augmented().is_random and not _augmented().without_augment().is_random
    assert not _dataset().is_random


def test_default_collate_dtypes_and_containers_match_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    batch = [(np.full((2,), i, np.float32), i, i / 2, {"m": np.int64(i)}) for i in range(3)]
    ours, theirs = default_collate(batch), torch_collate(batch)
    assert type(ours) is type(theirs) is list
    for a, b in zip(ours[:3], theirs[:3]):
        assert a.dtype.name == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ours[3]["m"].numpy().tolist() == theirs[3]["m"].tolist()
