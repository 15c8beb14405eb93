"""minitorch.utils.data against torch.utils.data: datasets, random_split, samplers, collate,
len(loader) and argument errors, compared live (values, types, lengths, error types)."""
import collections

import numpy as np
import pytest

import minitorch as mt
import minitorch.data
import minitorch.utils.data as mud
from minitorch.utils.data import (BatchSampler, ConcatDataset, DataLoader, RandomSampler,
                                  SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                                  WeightedRandomSampler, default_collate, default_convert,
                                  random_split)


def _torch():
    return pytest.importorskip("torch")


Point = collections.namedtuple("Point", "x y")


def test_utils_data_holds_the_same_objects_as_minitorch_data():
    for name in mud.__all__:
        assert getattr(mud, name) is getattr(minitorch.data, name)
    assert mt.utils.data.DataLoader is minitorch.data.DataLoader


def test_utils_data_has_torchs_public_names():
    t = _torch()
    wanted = {"Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
              "ChainDataset", "random_split", "DataLoader", "default_collate", "default_convert",
              "get_worker_info", "Sampler", "SequentialSampler", "RandomSampler",
              "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "DistributedSampler"}
    assert wanted <= set(t.utils.data.__all__) and wanted <= set(mud.__all__)


def test_tensor_dataset_indexing_matches_torch():
    t = _torch()
    x, y = np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5)
    ours = TensorDataset(mt.tensor(x), mt.tensor(y))
    theirs = t.utils.data.TensorDataset(t.tensor(x), t.tensor(y))
    for index in [1, -1, slice(1, 3), slice(None, None, 2)]:
        for a, b in zip(ours[index], theirs[index]):
            assert isinstance(a, mt.Tensor) and a.tolist() == b.tolist()
    for a, b in zip(ours[mt.tensor([0, 2])], theirs[t.tensor([0, 2])]):
        assert a.tolist() == b.tolist()
    with pytest.raises(IndexError):
        ours[5]
    with pytest.raises(IndexError):
        theirs[5]


def test_concat_dataset_matches_torch():
    t = _torch()
    ours, theirs = ConcatDataset([range(3), range(4)]), t.utils.data.ConcatDataset(
        [range(3), range(4)])
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-7, 7)] == [theirs[i] for i in range(-7, 7)]
    assert len(mud.Dataset.__add__(TensorDataset(np.zeros(2)), TensorDataset(np.zeros(3)))) == 5
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]),
                                        (11, [0.5, 0.25, 0.25]), (7, [1.0])])
def test_random_split_lengths_match_torch(n, lengths):
    t = _torch()
    ours = random_split(range(n), lengths, generator=mt.Generator().manual_seed(0))
    theirs = t.utils.data.random_split(range(n), lengths,
                                       generator=t.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert all(isinstance(s, Subset) for s in ours)
    together = sorted(i for s in ours for i in (s[k] for k in range(len(s))))
    assert together == list(range(n))


def test_random_split_is_reproducible_and_rejects_bad_lengths():
    a = random_split(range(20), [5, 15], generator=mt.Generator().manual_seed(1))
    b = random_split(range(20), [5, 15], generator=mt.Generator().manual_seed(1))
    assert a[0].indices.tolist() == b[0].indices.tolist()
    mt.manual_seed(3)
    c = random_split(range(20), [5, 15])
    mt.manual_seed(3)
    assert random_split(range(20), [5, 15])[0].indices.tolist() == c[0].indices.tolist()
    for bad in ([3, 3], [0.5, 0.6], [-1, 21]):
        with pytest.raises(ValueError):
            random_split(range(20), bad)


def test_sampler_lengths_and_values_match_torch():
    t = _torch()
    tud = t.utils.data
    assert list(SequentialSampler(range(4))) == list(tud.SequentialSampler(range(4)))
    pairs = [(RandomSampler(range(10), num_samples=25), tud.RandomSampler(range(10),
                                                                          num_samples=25)),
             (RandomSampler(range(5), replacement=True, num_samples=7),
              tud.RandomSampler(range(5), replacement=True, num_samples=7)),
             (SubsetRandomSampler([3, 4, 5]), tud.SubsetRandomSampler([3, 4, 5])),
             (WeightedRandomSampler([0.1, 0.9, 0.0], 6), tud.WeightedRandomSampler(
                 [0.1, 0.9, 0.0], 6))]
    for ours, theirs in pairs:
        got = list(ours)
        assert len(ours) == len(theirs) == len(got) == len(list(theirs))
        assert set(got) <= set(range(10))
    counts = np.bincount(list(RandomSampler(range(5), num_samples=12, seed=0)), minlength=5)
    assert sorted(counts.tolist()) == [2, 2, 2, 3, 3]   # whole permutations back to back
    assert sorted(SubsetRandomSampler([3, 4, 5], seed=1)) == [3, 4, 5]
    assert 2 not in list(WeightedRandomSampler([0.1, 0.9, 0.0], 50))
    for drop_last in (False, True):
        ours = BatchSampler(SequentialSampler(range(10)), 3, drop_last)
        theirs = tud.BatchSampler(tud.SequentialSampler(range(10)), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("make", [
    lambda ud: ud.RandomSampler(range(5), num_samples=0),
    lambda ud: ud.RandomSampler(range(5), replacement=1),
    lambda ud: ud.WeightedRandomSampler([0.1, 0.9], 0),
    lambda ud: ud.WeightedRandomSampler([0.1, 0.9], 2, replacement=1),
    lambda ud: ud.WeightedRandomSampler([[0.1]], 2),
    lambda ud: list(ud.WeightedRandomSampler([0.1, 0.9], 3, replacement=False)),
    lambda ud: ud.BatchSampler(range(10), 0, False),
    lambda ud: ud.BatchSampler(range(10), 2, 1),
    lambda ud: ud.DataLoader(range(10), batch_size=2, batch_sampler=[[0, 1]]),
    lambda ud: ud.DataLoader(range(10), sampler=ud.SequentialSampler(range(10)), shuffle=True),
    lambda ud: ud.DataLoader(range(10), batch_size=None, drop_last=True),
])
def test_sampler_and_loader_argument_errors_are_torchs(make):
    t = _torch()
    with pytest.raises(Exception) as theirs:
        make(t.utils.data)
    with pytest.raises(Exception) as ours:
        make(mud)
    # torch's TypeError/ValueError/RuntimeError kinds (ours are ValueError subclasses also).
    assert isinstance(ours.value, type(theirs.value)) or (
        isinstance(theirs.value, RuntimeError) and isinstance(ours.value, ValueError))


def _same(ours, theirs):
    t = _torch()
    if isinstance(theirs, t.Tensor):
        assert isinstance(ours, mt.Tensor) and ours.tolist() == theirs.tolist()
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        return
    assert type(ours) is type(theirs), (ours, theirs)
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert ours == theirs


BATCHES = [
    [(1, 2.0), (3, 4.0)],
    [Point(1, 2.5), Point(3, 4.5)],
    [{"a": np.float32(1), "s": "x"}, {"a": np.float32(2), "s": "y"}],
    [np.array([1, 2]), np.array([3, 4])],
    [True, False],
    [(1, "a"), (2, "b")],
    [[1, 2], [3, 4]],
    [b"ab", b"cd"],
    [np.int32(3), np.int32(4)],
    [1.5, 2.5],
    [collections.OrderedDict(k=np.zeros(2, np.float32)), collections.OrderedDict(
        k=np.ones(2, np.float32))],
]


@pytest.mark.parametrize("batch", BATCHES)
def test_default_collate_matches_torch(batch):
    t = _torch()
    _same(default_collate(batch), t.utils.data.default_collate(batch))


def test_default_collate_of_tensors_matches_torch():
    t = _torch()
    _same(default_collate([mt.tensor(1.0), mt.tensor(2.0)]),
          t.utils.data.default_collate([t.tensor(1.0), t.tensor(2.0)]))


@pytest.mark.parametrize("batch", [
    [np.zeros(3), np.zeros(4)], [[1, 2], [3]], [object(), object()],
    [np.array(["a"]), np.array(["b"])]])
def test_default_collate_errors_match_torch(batch):
    t = _torch()
    with pytest.raises(Exception) as theirs:
        t.utils.data.default_collate(batch)
    with pytest.raises(type(theirs.value)) as ours:
        default_collate(batch)
    if "stack expects" in str(theirs.value):
        assert str(ours.value) == str(theirs.value)


def test_unequal_tensor_shapes_get_torchs_message():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[3\] at entry 0 and \[4\] at entry 1"):
        default_collate([mt.zeros(3), mt.zeros(4)])


@pytest.mark.parametrize("data", [np.array([1, 2]), [np.array([1]), 2], {"a": np.zeros(1)},
                                  (np.int64(1), "s")])
def test_default_convert_matches_torch(data):
    t = _torch()
    _same(default_convert(data), t.utils.data.default_convert(data))


@pytest.mark.parametrize("kwargs", [dict(batch_size=4), dict(batch_size=4, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=30)])
def test_len_and_batches_of_the_loader_match_torch(kwargs):
    t = _torch()
    x = np.arange(46, dtype=np.float32).reshape(23, 2)
    ours = DataLoader(TensorDataset(mt.tensor(x), mt.arange(23)), **kwargs)
    theirs = t.utils.data.DataLoader(t.utils.data.TensorDataset(t.tensor(x), t.arange(23)),
                                     **kwargs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)


def test_batch_sampler_argument_drives_the_loader_as_torch():
    t = _torch()
    batches = [[3, 1], [0], [2, 4, 5]]
    ours = DataLoader(list(range(10, 16)), batch_sampler=batches)
    theirs = t.utils.data.DataLoader(list(range(10, 16)), batch_sampler=batches)
    assert len(ours) == len(theirs) == 3
    assert [b.tolist() for b in ours] == [b.tolist() for b in theirs]


def test_shuffle_without_seed_follows_manual_seed():
    def order():
        return [y.tolist() for _, y in DataLoader(TensorDataset(np.zeros(20), np.arange(20)),
                                                  batch_size=5, shuffle=True)]
    mt.manual_seed(0)
    a = order()
    mt.manual_seed(0)
    assert order() == a
    mt.manual_seed(1)
    assert order() != a


def test_loader_with_a_user_random_sampler_reshuffles_each_epoch():
    ds = TensorDataset(np.arange(20))
    loader = DataLoader(ds, batch_size=20, sampler=RandomSampler(ds, seed=3))
    first, second = [next(iter(loader))[0].tolist() for _ in range(2)]
    assert first != second and sorted(first) == sorted(second) == list(range(20))
