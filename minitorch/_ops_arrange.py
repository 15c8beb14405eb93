"""Arranging tensors, composed of views and products (so differentiable to any order):
``atleast_1d/2d/3d``, ``dstack``, ``column_stack``, ``rot90``, ``flipud``, ``fliplr``,
``tensordot``, ``kron``, ``take_along_dim``."""
import numpy as np

from ._registry import declare
from ._tensor_shape import _dim

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "dstack", "column_stack", "rot90",
           "flipud", "fliplr", "tensordot", "kron", "take_along_dim"]


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
