"""DataLoader(num_workers > 0): real worker processes, num_workers=0's batches in its order,
torch's seeding, worker errors re-raised with their traceback, clean shut-down."""
import multiprocessing
import os
import random
import time

import numpy as np
import pytest

import minitorch as mt
from minitorch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info


class Numbers(Dataset):
    """Sample i: (a row of i's, i, the pid that made it); raises on ``fail_at``."""

    def __init__(self, n=23, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is corrupt")
        return np.full(3, i, np.float32), i, os.getpid()


class RandomAugment(Dataset):
    """Augmentation from the global RNGs, as a typical torch dataset does it."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.random.random(), random.random(), float(mt.rand(1).item())


class Shards(IterableDataset):
    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        info = get_worker_info()
        step, start = (info.num_workers, info.id) if info else (1, 0)
        return iter(range(start, self.n, step))


def _children():
    return [p for p in multiprocessing.active_children() if p.daemon]


def test_workers_give_the_batches_of_num_workers_0_in_the_same_order():
    ref = list(DataLoader(Numbers(), batch_size=4, shuffle=True, seed=3))
    got = list(DataLoader(Numbers(), batch_size=4, shuffle=True, seed=3, num_workers=2))
    assert len(got) == len(ref) == 6
    for (x, y, _), (rx, ry, _) in zip(got, ref):
        assert y.tolist() == ry.tolist() and np.array_equal(x.numpy(), rx.numpy())
    pids = {p for _, _, pid in got for p in pid.tolist()}
    assert len(pids) == 2 and os.getpid() not in pids


def test_in_memory_batches_and_augmentation_are_identical_with_workers():
    from tests.data.test_dataloader import _augmented
    ds = _augmented(20)
    ref = [x.numpy() for x, _ in DataLoader(ds, batch_size=6, shuffle=True, seed=1)]
    got = [x.numpy() for x, _ in DataLoader(ds, batch_size=6, shuffle=True, seed=1,
                                            num_workers=2, prefetch_factor=1)]
    assert len(got) == len(ref) and all(np.array_equal(a, b) for a, b in zip(got, ref))


def test_out_of_order_yields_every_batch_once():
    loader = DataLoader(Numbers(), batch_size=3, num_workers=2, in_order=False)
    assert sorted(i for _, y, _ in loader for i in y.tolist()) == list(range(23))


def test_workers_are_seeded_base_seed_plus_worker_id_and_differ():
    def draws(seed):
        mt.manual_seed(seed)
        return [tuple(v.tolist()) for b in DataLoader(RandomAugment(), batch_size=2,
                                                      num_workers=2) for v in b]
    first, again, other = draws(0), draws(0), draws(1)
    assert first == again and first != other
    np_draws = first[0::3]   # batch 0 from worker 0, batch 1 from worker 1
    assert np_draws[0] != np_draws[1]


def test_worker_init_fn_and_worker_info_in_each_worker():
    seen = []

    def collate(batch):
        info = get_worker_info()
        return info.id, info.num_workers, info.seed, os.environ.get("INIT_BY")

    def init(worker_id):
        os.environ["INIT_BY"] = f"init{worker_id}"

    mt.manual_seed(5)
    for out in DataLoader(Numbers(8), batch_size=2, num_workers=2, collate_fn=collate,
                          worker_init_fn=init):
        seen.append(out)
    ids = [s[0] for s in seen]
    assert ids == [0, 1, 0, 1] and {s[1] for s in seen} == {2}
    assert [s[3] for s in seen] == ["init0", "init1", "init0", "init1"]
    assert seen[1][2] == seen[0][2] + 1    # base_seed + worker_id
    assert get_worker_info() is None


def test_a_worker_exception_is_reraised_with_the_workers_traceback():
    loader = DataLoader(Numbers(fail_at=17), batch_size=4, num_workers=2)
    it = iter(loader)
    batches = [next(it) for _ in range(4)]
    with pytest.raises(RuntimeError) as info:   # KeyError's quoting: torch re-raises as such too
        next(it)
    message = str(info.value)
    assert "Caught KeyError in DataLoader worker process 0" in message
    assert "sample 17 is corrupt" in message and "__getitem__" in message
    assert next(it)[1].tolist() == [20, 21, 22]   # the iterator goes on, as torch's
    assert [b[1].tolist()[0] for b in batches] == [0, 4, 8, 12]


def test_value_errors_keep_their_type():
    class Bad(Numbers):
        def __getitem__(self, i):
            raise ValueError("no")
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 0"):
        next(iter(DataLoader(Bad(), num_workers=1)))


def test_breaking_out_early_shuts_the_workers_down():
    before = set(_children())
    for _ in DataLoader(Numbers(), batch_size=2, num_workers=2):
        break
    deadline = time.monotonic() + 10
    while set(_children()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(_children()) - before


def test_persistent_workers_serve_every_epoch_with_the_same_processes():
    loader = DataLoader(Numbers(10), batch_size=5, num_workers=2, persistent_workers=True,
                        shuffle=True, seed=2)
    epochs = [[(y.tolist(), pid.tolist()[0]) for _, y, pid in loader] for _ in range(3)]
    pids = {pid for epoch in epochs for _, pid in epoch}
    assert len(pids) == 2
    orders = [[y for y, _ in e] for e in epochs]
    assert orders[0] != orders[1]
    ref = DataLoader(Numbers(10), batch_size=5, shuffle=True, seed=2)
    assert [[y.tolist() for _, y, _ in ref] for _ in range(3)] == orders
    del loader


def test_iterable_dataset_split_by_worker_info():
    got = [b.tolist() for b in DataLoader(Shards(), batch_size=3, num_workers=2)]
    assert got == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]
    assert [b.tolist() for b in DataLoader(Shards(), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_worker_arguments_are_validated_as_torch():
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(Numbers(), num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(Numbers(), prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(Numbers(), persistent_workers=True)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(Numbers(), timeout=-1)


def test_a_worker_that_dies_is_reported_not_waited_for():
    class Dies(Numbers):
        def __getitem__(self, i):
            os._exit(3)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Dies(), num_workers=1))


def test_timeout_raises():
    class Slow(Numbers):
        def __getitem__(self, i):
            time.sleep(1.5)
    with pytest.raises(RuntimeError, match="timed out after 0.3 seconds"):
        next(iter(DataLoader(Slow(), num_workers=1, timeout=0.3)))


def test_images_decode_in_the_workers_and_match_the_main_process(tmp_path):
    from tests.data.test_image_folder import _save
    from minitorch.data import ImageFolder
    for k in range(8):
        _save(tmp_path / ("a" if k % 2 else "b") / f"{k}.png", k)
    ds = ImageFolder(tmp_path, image_size=8, random_crop=True, padding=2, horizontal_flip=True)
    decoded_in = []
    original = ds.get_item

    def spy(index, rng):
        decoded_in.append(os.getpid())
        return original(index, rng)

    ds.get_item = spy
    ref = [(x.numpy(), y.tolist()) for x, y in DataLoader(ds, batch_size=3, shuffle=True,
                                                          seed=4)]
    assert decoded_in == [os.getpid()] * 8
    got = [(x.numpy(), y.tolist()) for x, y in DataLoader(ds, batch_size=3, shuffle=True,
                                                          seed=4, num_workers=2)]
    assert [y for _, y in got] == [y for _, y in ref]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(got, ref))
    assert len(decoded_in) == 8   # the workers, not this process, decoded them this time


def test_persistent_workers_restart_an_iterable_dataset_each_epoch():
    loader = DataLoader(Shards(), batch_size=3, num_workers=2, persistent_workers=True)
    epochs = [[b.tolist() for b in loader] for _ in range(2)]
    assert epochs[0] == epochs[1] == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]


def test_spawned_workers_give_the_same_batches():
    from minitorch.utils.data import TensorDataset
    ds = TensorDataset(np.arange(10, dtype=np.float32), np.arange(10))
    got = [y.tolist() for _, y in DataLoader(ds, batch_size=3, num_workers=1,
                                             multiprocessing_context="spawn")]
    assert got == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_without_batching_each_sample_is_converted():
    got = list(DataLoader(Numbers(4), batch_size=None, num_workers=2))
    assert [int(i) for _, i, _ in got] == [0, 1, 2, 3]
    assert isinstance(got[0][0], mt.Tensor) and got[0][0].shape == (3,)
