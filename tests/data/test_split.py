"""Train/val splits: stratified, seeded, disjoint, covering."""
import numpy as np
import pytest

from minitorch.data import (DataError, Subset, TensorDataset, random_split_indices,
                            stratified_split, train_val_split)


def test_stratified_split_keeps_class_proportions_and_is_deterministic():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, val = stratified_split(labels, 0.2, seed=4)
    assert np.bincount(labels[val]).tolist() == [10, 6, 4]
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    assert not set(train) & set(val)
    again = stratified_split(labels, 0.2, seed=4)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(stratified_split(labels, 0.2, seed=5)[1], val)


def test_random_split_is_disjoint_and_sized():
    train, val = random_split_indices(10, 0.3, seed=0)
    assert len(val) == 3 and len(train) == 7
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(10))


def test_bad_fraction_is_named():
    with pytest.raises(DataError, match="val_fraction 1.0"):
        stratified_split([0, 1], 1.0)


def test_train_val_split_uses_targets_and_returns_subsets():
    x = np.arange(20, dtype=np.float32)
    ds = TensorDataset(x, np.arange(20) % 2)
    ds.targets = np.arange(20) % 2
    train, val = train_val_split(ds, 0.5, seed=1)
    assert isinstance(train, Subset) and len(train) == len(val) == 10
    assert np.bincount(val.targets).tolist() == [5, 5]
    xb, yb = val.get_batch([0, 1])
    assert xb.tolist() == x[val.indices[:2]].tolist()


def test_subset_forwards_items_and_checks_indices():
    ds = TensorDataset(np.arange(5), np.arange(5) * 10)
    sub = Subset(ds, [4, 0])
    assert sub[0][1] == 40 and len(sub) == 2
    assert [a.tolist() for a in sub.arrays()] == [[4, 0], [40, 0]]
    with pytest.raises(DataError, match="Subset index 7 out of range"):
        Subset(ds, [7])
    with pytest.raises(IndexError):
        sub[2]


def test_tensor_dataset_checks_lengths():
    with pytest.raises(DataError, match=r"\(3,\), \(4,\)"):
        TensorDataset(np.zeros(3), np.zeros(4))
