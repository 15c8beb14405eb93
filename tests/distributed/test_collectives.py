"""all_reduce_/broadcast_/all_reduce_scalars: bucketing alone, and real 2-rank jobs."""
import re

import numpy as np
import pytest

import minitorch.distributed as dist
from minitorch.distributed.collectives import plan_buckets
from minitorch.tensor import Tensor

HERE = __import__("pathlib").Path(__file__).resolve().parent


def test_two_ranks_reduce_and_broadcast_many_shapes_and_dtypes(mpi):
    proc = mpi([HERE / "worker_collectives.py"], n=2, timeout=90)
    assert proc.returncode == 0, proc.stderr
    # mpiexec may interleave the ranks' lines, so look for both markers anywhere.
    assert sorted(re.findall(r"OK (\d)", proc.stdout)) == ["0", "1"], proc.stdout


def test_buckets_group_by_dtype_in_order_and_respect_the_size():
    arrays = [np.zeros(10, np.float32), np.zeros(3, np.int64), np.zeros(20, np.float32),
              np.zeros(5, np.float32), np.zeros(100, np.float32)]
    buckets = plan_buckets(arrays, bucket_bytes=120)
    assert [(str(d), idx) for d, idx in buckets] == [
        ("float32", [0, 2]), ("int64", [1]), ("float32", [3]), ("float32", [4])]


def test_one_bucket_for_resnet18_sized_grads_under_25mb():
    arrays = [np.zeros((512, 512, 3, 3), np.float32)] * 4  # 37.7 MB: needs two buckets
    assert len(plan_buckets(arrays)) == 2


def test_alone_collectives_are_noops_but_still_validate():
    assert dist.world_size() == 1 and dist.rank() == 0 and dist.is_main_process()
    t = Tensor(np.arange(6, dtype=np.float32))
    dist.all_reduce_([t])
    dist.broadcast_([t], src=0)
    np.testing.assert_array_equal(t.detach().numpy(), np.arange(6))
    assert dist.all_reduce_scalars({"b": 2, "a": 1.5}) == {"a": 1.5, "b": 2}
    with pytest.raises(ValueError, match="unknown reduce op 'avg'"):
        dist.all_reduce_([t], op="avg")
    with pytest.raises(ValueError, match="invalid src rank 1"):
        dist.broadcast_([t], src=1)
    with pytest.raises(TypeError, match="unsupported dtype float16"):
        dist.all_reduce_([np.zeros(2, np.float16)])


def test_data_parallel_input_checks_name_the_numbers():
    assert dist.split_global_batch(64, world=4) == 16
    with pytest.raises(dist.DataParallelError, match="global batch 10 does not divide evenly "
                                                     "among 4 processes"):
        dist.split_global_batch(10, world=4)
    with pytest.raises(dist.DataParallelError, match="has 1 samples, fewer than the 2 processes"):
        dist.check_dataset_size(1, world=2)
    assert dist.check_dataset_size(2, world=2) == 2
