"""``torch.linalg``'s common part: ``vector_norm``, ``norm`` and ``matrix_norm`` (vector orders
and the Frobenius norm), ``inv``, ``det`` and ``solve``, batched over leading dims, with
gradients to any order (``inv`` and ``det`` are Functions whose backward is recorded ops;
``solve`` is ``inv(A) @ B``)."""
import numpy as np

from ._registry import _TYPE
from .autograd.function import Function

__all__ = ["vector_norm", "norm", "matrix_norm", "inv", "det", "solve"]


def _mt():
    import minitorch
    return minitorch


def _floating(name, x):
    if x._data.dtype.kind != "f":
        kind = _TYPE.get(str(x._data.dtype), str(x._data.dtype))
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{kind}")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of ``x``'s elements (over ``dim``: an int or a tuple; all if None)."""
    _floating("linalg.vector_norm", x)
    if dtype is not None:
        x = x.to(dtype)
    return _mt().norm(x, p=ord, dim=dim, keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """The Frobenius norm of each matrix (the other matrix norms are not here)."""
    _floating("linalg.matrix_norm", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions.")
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} is not supported here "
                                  "(only 'fro')")
    return vector_norm(A, 2, tuple(dim), keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """``vector_norm`` for an int ``dim`` or 1-d input, ``matrix_norm`` for two dims or 2-d
    input with a matrix ``ord``; with neither ``ord`` nor ``dim``, the 2-norm of all elements."""
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if isinstance(ord, str) or (dim is None and A.ndim == 2) or \
            (isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def _square(name, A):
    _floating(name, A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else 1} by {A.shape[-1]} matrices")


def _mT(x):
    return np.swapaxes(x, -1, -2)


class Inverse(Function):
    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a):
        out = np.linalg.inv(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (inv_a,) = ctx.saved_tensors
        return -_mT(inv_a) @ grad @ _mT(inv_a)

    @staticmethod
    def backward_graph(ctx, grad):
        (inv_a,) = ctx.saved_tensors
        t = ctx.saved_output(inv_a).mT
        return -(t @ grad @ t)


class Determinant(Function):
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        return (grad * out)[..., None, None] * _mT(np.linalg.inv(a))

    @staticmethod
    def backward_graph(ctx, grad):
        a, _ = ctx.saved_tensors
        a = ctx.saved_input(0, a)
        return (grad * det(a))[..., None, None] * inv(a).mT


def inv(A):
    """The inverse of each square matrix (a singular one: numpy's LinAlgError)."""
    _square("linalg.inv", A)
    return Inverse.apply(A)


def det(A):
    """The determinant of each square matrix."""
    _square("linalg.det", A)
    return Determinant.apply(A)


def solve(A, B, *, left=True):
    """``X`` with ``A @ X = B`` (``B`` a batch of vectors or matrices; ``left=False``:
    ``X @ A = B``)."""
    _square("linalg.solve", A)
    if not left:
        return solve(A.mT, B.mT).mT
    if B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1])):
        return (inv(A) @ B.unsqueeze(-1)).squeeze(-1)   # (a batch of vectors, as torch's rule)
    return inv(A) @ B
