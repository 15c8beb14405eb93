"""Collectives over tensors: all-reduce and broadcast through a few large flat buffers.

One MPI message per parameter would cost ResNet-18's 62 parameter tensors 62 latencies per step,
and the small ones (BatchNorm vectors) would run far below the link's bandwidth. Instead the
tensors are packed, in order, into contiguous buckets of about ``BUCKET_BYTES`` per dtype, each
bucket is reduced with one in-place ``Allreduce`` (or ``Bcast``), and the results are copied back
into the tensors' own arrays, in place (the arrays may be non-contiguous views).

Every rank must pass the same tensors, in the same order, with the same shapes and dtypes: that is
the data-parallel invariant (same model everywhere). ``GradientSync`` checks it once at start.
"""
import numpy as np

from . import env

__all__ = ["BUCKET_BYTES", "all_reduce_", "broadcast_", "all_reduce_scalars", "plan_buckets",
           "layout_signature"]

BUCKET_BYTES = 25 * 1024 * 1024

_OPS = ("sum", "mean", "max", "min")
_SUPPORTED = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_)}


def _array_of(t):
    """The ndarray behind a Tensor (its ``._data``) or an ndarray itself."""
    arr = t if isinstance(t, np.ndarray) else getattr(t, "_data", None)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected a Tensor or an ndarray, got {type(t).__name__}")
    if arr.dtype not in _SUPPORTED:
        raise TypeError(f"unsupported dtype {arr.dtype} for a collective: "
                        f"use one of {sorted(str(d) for d in _SUPPORTED)}")
    return arr


def _bump(tensors):
    """Tell autograd's version counters that the arrays changed in place."""
    for t in tensors:
        bump = getattr(t, "_bump_version", None)
        if bump is not None:
            bump()


def plan_buckets(arrays, bucket_bytes=BUCKET_BYTES):
    """Group array indices into buckets: same dtype, in order, about ``bucket_bytes`` each (an
    array larger than a bucket gets one of its own). Returns a list of (dtype, [indices])."""
    open_buckets = {}  # dtype -> (indices, bytes) of the bucket being filled
    buckets = []
    for i, arr in enumerate(arrays):
        indices, size = open_buckets.get(arr.dtype, (None, 0))
        if indices is None or size + arr.nbytes > bucket_bytes:
            indices, size = [], 0
            buckets.append((arr.dtype, indices))
        indices.append(i)
        open_buckets[arr.dtype] = (indices, size + arr.nbytes)
    return buckets


def layout_signature(arrays):
    """A hashable description of the arrays' shapes and dtypes (must agree across ranks)."""
    return tuple((tuple(a.shape), a.dtype.str) for a in arrays)


def _pack(arrays, indices, dtype):
    buf = np.empty(sum(arrays[i].size for i in indices), dtype=dtype)
    offset = 0
    for i in indices:
        n = arrays[i].size
        np.copyto(buf[offset:offset + n].reshape(arrays[i].shape), arrays[i])
        offset += n
    return buf


def _unpack(buf, arrays, indices):
    offset = 0
    for i in indices:
        n = arrays[i].size
        np.copyto(arrays[i], buf[offset:offset + n].reshape(arrays[i].shape))
        offset += n


def _mpi_op(op, dtype):
    from mpi4py import MPI
    if dtype == np.bool_:
        if op not in ("max", "min"):
            raise ValueError(f"op {op!r} is not defined for bool tensors: use 'max' or 'min'")
        return MPI.LOR if op == "max" else MPI.LAND
    if op == "mean" and dtype.kind != "f":
        raise ValueError(f"op 'mean' needs floating tensors, got {dtype}: use 'sum'")
    return {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]


def all_reduce_(tensors, op="mean", bucket_bytes=BUCKET_BYTES):
    """Reduce ``tensors`` across all ranks, in place (``op``: mean, sum, max, min); every rank
    ends with the same values. Tensors' version counters are bumped. A no-op alone."""
    if op not in _OPS:
        raise ValueError(f"unknown reduce op {op!r}: expected one of {_OPS}")
    tensors = list(tensors)
    arrays = [_array_of(t) for t in tensors]
    comm = env.get_comm()
    if comm is None:
        return tensors
    from mpi4py import MPI
    for dtype, indices in plan_buckets(arrays, bucket_bytes):
        buf = _pack(arrays, indices, dtype)
        comm.Allreduce(MPI.IN_PLACE, buf, op=_mpi_op(op, dtype))
        if op == "mean":
            buf /= comm.Get_size()
        _unpack(buf, arrays, indices)
    _bump(tensors)
    return tensors


def broadcast_(tensors, src=0, bucket_bytes=BUCKET_BYTES):
    """Overwrite ``tensors`` on every rank with rank ``src``'s values, in place (parameters and
    buffers at the start of training). Version counters are bumped. A no-op alone."""
    tensors = list(tensors)
    arrays = [_array_of(t) for t in tensors]
    comm = env.get_comm()
    if not 0 <= src < env.world_size():
        raise ValueError(f"invalid src rank {src}: the world has {env.world_size()} ranks")
    if comm is None:
        return tensors
    for dtype, indices in plan_buckets(arrays, bucket_bytes):
        buf = _pack(arrays, indices, dtype)
        comm.Bcast(buf, root=src)
        if comm.Get_rank() != src:
            _unpack(buf, arrays, indices)
    _bump(tensors)
    return tensors


def all_reduce_scalars(values, op="sum"):
    """Reduce a dict of numbers across ranks (e.g. sum of loss*count, correct, count) and return
    a new dict of floats (ints stay ints for 'sum', 'max', 'min'). Every rank must pass the same
    keys; a mismatch is an error on every rank."""
    if op not in _OPS:
        raise ValueError(f"unknown reduce op {op!r}: expected one of {_OPS}")
    keys = sorted(values)
    comm = env.get_comm()
    if comm is None:
        return {k: values[k] for k in keys}
    all_keys = comm.allgather(keys)
    if any(k != keys for k in all_keys):
        raise env.DistributedError(f"all_reduce_scalars: ranks passed different keys: {all_keys}")
    buf = np.array([float(values[k]) for k in keys], dtype=np.float64)
    from mpi4py import MPI
    comm.Allreduce(MPI.IN_PLACE, buf, op=_mpi_op(op, buf.dtype))
    if op == "mean":
        buf /= comm.Get_size()
    out = {}
    for k, v in zip(keys, buf):
        is_int = isinstance(values[k], (int, np.integer)) and not isinstance(values[k], bool)
        out[k] = int(round(v)) if is_int and op != "mean" else float(v)
    return out
