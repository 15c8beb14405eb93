"""Run under ``mpiexec -n 2``: all_reduce_/broadcast_ on many shapes and dtypes, checked against
values computed in closed form on every rank. Prints "OK <rank>" when every check passes."""
import numpy as np

from minitorch.tensor import Tensor
import minitorch.distributed as dist

SHAPES = [(), (1,), (7,), (3, 5), (2, 3, 4, 5), (0,), (4, 0, 2), (64, 33)]
FLOATS = [np.float32, np.float64]


def values(shape, dtype, r, salt):
    """A rank-dependent array that every rank can recompute for any rank ``r``."""
    n = int(np.prod(shape))
    base = (np.arange(n) % 17 + salt).reshape(shape)
    return np.asarray((base * (r + 1) + r).astype(dtype))


def check_all_reduce(world, r):
    for op in ("sum", "mean", "max", "min"):
        for dtype in FLOATS + [np.int32, np.int64]:
            if op == "mean" and np.dtype(dtype).kind != "f":
                continue
            arrays = [values(s, dtype, r, i) for i, s in enumerate(SHAPES)]
            tensors = [Tensor._new(a) for a in arrays]
            versions = [t._version for t in tensors]
            # A tiny bucket forces several buckets, exercising the pack/unpack offsets.
            dist.all_reduce_(tensors, op=op, bucket_bytes=64)
            for i, (s, t) in enumerate(zip(SHAPES, tensors)):
                stack = np.stack([values(s, np.float64, q, i) for q in range(world)])
                want = {"sum": stack.sum(0), "mean": stack.mean(0),
                        "max": stack.max(0), "min": stack.min(0)}[op]
                assert t.detach().numpy() is arrays[i], "all_reduce_ must work in place"
                assert t.detach().numpy().dtype == dtype and t.shape == s
                np.testing.assert_allclose(t.detach().numpy(), want.astype(dtype), rtol=1e-6,
                                           err_msg=f"{op} {dtype} {s}")
            assert all(t._version > v for t, v in zip(tensors, versions)), "versions not bumped"


def check_mixed_dtypes_and_views(world, r):
    """Interleaved dtypes (separate buckets per dtype) and non-contiguous views."""
    big = values((6, 8), np.float32, r, 3)
    view = big[:, ::2].T            # non-contiguous, written through to `big`
    ints = values((5,), np.int64, r, 1)
    doubles = values((2, 2), np.float64, r, 2)
    flags = np.array([r == 0, False, True])
    dist.all_reduce_([view, ints, doubles], op="sum")
    dist.all_reduce_([flags], op="max")
    ref = sum(values((6, 8), np.float32, q, 3) for q in range(world))
    np.testing.assert_allclose(big[:, ::2], ref[:, ::2], rtol=1e-6)
    np.testing.assert_array_equal(big[:, 1::2], values((6, 8), np.float32, r, 3)[:, 1::2])
    np.testing.assert_array_equal(ints, sum(values((5,), np.int64, q, 1) for q in range(world)))
    np.testing.assert_allclose(doubles, sum(values((2, 2), np.float64, q, 2) for q in range(world)))
    np.testing.assert_array_equal(flags, [True, False, True])


def check_broadcast(world, r):
    for src in range(world):
        arrays = [values(s, d, r, i) for i, s in enumerate(SHAPES) for d in FLOATS + [np.int64]]
        arrays.append(np.array([r == src, r != src]))
        tensors = [Tensor._new(a) for a in arrays]
        dist.broadcast_(tensors, src=src, bucket_bytes=100)
        k = 0
        for i, s in enumerate(SHAPES):
            for d in FLOATS + [np.int64]:
                np.testing.assert_array_equal(tensors[k].detach().numpy(), values(s, d, src, i))
                k += 1
        np.testing.assert_array_equal(tensors[-1].detach().numpy(), [True, False])


def check_scalars(world, r):
    out = dist.all_reduce_scalars({"loss_sum": 0.5 * (r + 1), "correct": r + 3, "count": 10})
    assert out == {"correct": sum(q + 3 for q in range(world)), "count": 10 * world,
                   "loss_sum": sum(0.5 * (q + 1) for q in range(world))}, out
    assert isinstance(out["count"], int) and isinstance(out["loss_sum"], float)


def main():
    world = dist.init()
    r = dist.rank()
    assert world == 2 and dist.local_world_size() == 2
    assert dist.is_main_process() == (r == 0)
    check_all_reduce(world, r)
    check_mixed_dtypes_and_views(world, r)
    check_broadcast(world, r)
    check_scalars(world, r)
    dist.barrier()
    print(f"OK {r}", flush=True)


if __name__ == "__main__":
    main()
