"""Arranging tensors, composed of views and products (so differentiable to any order):
``atleast_1d/2d/3d``, ``dstack``, ``column_stack``, ``rot90``, ``flipud``, ``fliplr``,
``tensordot``, ``kron``, ``take_along_dim``, ``cross``, ``unflatten``, ``block_diag``,
``cartesian_prod``."""
import numpy as np

from . import _promotion as P
from ._registry import declare
from ._tensor_shape import _dim

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "dstack", "column_stack", "rot90",
           "flipud", "fliplr", "tensordot", "kron", "take_along_dim", "cross", "unflatten",
           "block_diag", "cartesian_prod"]


def _mt():
    import minitorch  # (the top-level functions: this module loads while minitorch does)
    return minitorch


def _at_least(tensors, shape_of):
    """Each tensor viewed with the shape numpy's ``atleast_*`` gives it; one tensor alone, or a
    tuple (several, or a sequence of them), as torch."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    items = tensors[0] if len(tensors) == 1 and not single else tensors
    out = tuple(x.reshape(*shape_of(np.empty(tuple(x.shape), np.bool_)).shape) for x in items)
    return out[0] if single else out


@declare(method=False, out=False, sequence_input=True)
def atleast_1d(*tensors):
    return _at_least(tensors, np.atleast_1d)


@declare(method=False, out=False, sequence_input=True)
def atleast_2d(*tensors):
    return _at_least(tensors, np.atleast_2d)


@declare(method=False, out=False, sequence_input=True)
def atleast_3d(*tensors):
    return _at_least(tensors, np.atleast_3d)


@declare(method=False, sequence_input=True)
def dstack(tensors):
    """Join along dim 2, each tensor made at least 3-d first (as ``atleast_3d``)."""
    return _mt().cat([atleast_3d(x) for x in tensors], 2)


@declare(method=False, sequence_input=True)
def column_stack(tensors):
    """Join along dim 1, 0-d and 1-d tensors made columns first."""
    return _mt().cat([x.reshape(-1, 1) if x.ndim < 2 else x for x in tensors], 1)


@declare(out=False)
def rot90(input, k=1, dims=(0, 1)):  # noqa: A002 - PyTorch's names
    """A rotation by 90 degrees ``k`` times, from the first of ``dims`` towards the second."""
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


@declare(out=False)
def flipud(input):  # noqa: A002
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return input.flip(0)


@declare(out=False)
def fliplr(input):  # noqa: A002
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


@declare(method=False)
def tensordot(a, b, dims=2):
    """The sum of products over ``dims``: an int (the last ``dims`` of ``a`` with the first of
    ``b``) or a pair of lists of dims; one matrix product."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [_dim(d, a.ndim) for d in dims_a]
    dims_b = [_dim(d, b.ndim) for d in dims_b]
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in "
                               f"dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = int(np.prod([a.shape[d] for d in dims_a]))
    left = a.permute(*free_a, *dims_a).reshape(-1, k)
    right = b.permute(*dims_b, *free_b).reshape(k, -1)
    shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return (left @ right).reshape(*shape)


@declare()
def kron(input, other):  # noqa: A002
    """The Kronecker product: every element of ``input`` times the whole of ``other``."""
    n = max(input.ndim, other.ndim)
    a = input.reshape(*([1] * (n - input.ndim) + list(input.shape)))
    b = other.reshape(*([1] * (n - other.ndim) + list(other.shape)))
    spread_a = [s for d in a.shape for s in (d, 1)]
    spread_b = [s for d in b.shape for s in (1, d)]
    out = a.reshape(*spread_a) * b.reshape(*spread_b)
    return out.reshape(*[x * y for x, y in zip(a.shape, b.shape)])


@declare()
def take_along_dim(input, indices, dim=None):  # noqa: A002
    """``gather`` along ``dim`` with the other dims broadcast (without ``dim``: of the
    flattened input)."""
    if dim is None:
        return input.reshape(-1)[indices.reshape(-1)].reshape(*indices.shape)
    d = _dim(dim, input.ndim)
    if indices.ndim != input.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    without = [[1 if i == d else n for i, n in enumerate(t.shape)] for t in (input, indices)]
    shape = list(np.broadcast_shapes(*map(tuple, without)))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[d], i_shape[d] = input.shape[d], indices.shape[d]
    return input.expand(*x_shape).gather(d, indices.expand(*i_shape))


@declare()
def cross(input, other, dim=None):  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (without it, the first dim of size 3,
    with torch's warning)."""
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.",
                      UserWarning, stacklevel=3)
        dim = next((i for i, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = _dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    a = [input.narrow(d, i, 1) for i in range(3)]
    b = [other.narrow(d, i, 1) for i in range(3)]
    return _mt().cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                      a[0] * b[1] - a[1] * b[0]], d)


@declare(out=False)
def unflatten(input, dim, sizes):  # noqa: A002
    """Dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    d = _dim(dim, input.ndim)
    return input.reshape(*input.shape[:d], *sizes, *input.shape[d + 1:])


@declare(method=False, sequence_input=True)
def block_diag(*tensors):
    """The tensors (0-d, 1-d as a row, or 2-d) as diagonal blocks of one matrix."""
    mt = _mt()
    blocks = [x.reshape(1, 1) if x.ndim == 0 else x.reshape(1, -1) if x.ndim == 1 else x
              for x in tensors]
    for i, x in enumerate(blocks):
        if x.ndim != 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {x.ndim} dimensions")
    width = sum(x.shape[1] for x in blocks)
    dtype = P.result_type(*[x._data for x in blocks])
    rows, left = [], 0
    for x in blocks:
        r, c = x.shape
        parts = [mt.zeros(r, left, dtype=dtype), x.to(dtype), mt.zeros(r, width - left - c,
                                                                       dtype=dtype)]
        rows.append(mt.cat(parts, 1))
        left += c
    return mt.cat(rows, 0)


@declare(method=False, sequence_input=True)
def cartesian_prod(*tensors):
    """Every combination of the 1-d tensors' elements, one per row (a 1-d tensor alone: a
    copy)."""
    if len(tensors) == 1:
        return tensors[0].clone()
    grids = _mt().meshgrid(*tensors, indexing="ij")
    return _mt().stack([g.reshape(-1) for g in grids], 1)
