"""Reductions: sum, mean, var/std, max/min (whole tensor or along one dim), amax/amin.

``dim`` is None (every axis), an int or a tuple of ints, already normalised to non-negative axes;
0-d inputs with a dim are turned into 1-element ones by the Tensor methods before they get here.
The gradients at ties, constants and NaN are PyTorch's formulas; ``backward_graph``
(create_graph=True) writes each in recorded Tensor ops, with the tie masks as constants.
"""
import numpy as np

from ..autograd.function import Function
from .elementwise import Where
from .shape import Expand, Reshape

__all__ = ["Sum", "Mean", "Var", "Std", "MaxAll", "MinAll", "MaxDim", "MinDim", "Amax", "Amin",
           "ArgMax", "ArgMin", "Logical", "LogSumExp"]


def _quiet():
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _expand_back(grad, shape, dim, keepdim):
    """Broadcast a reduced gradient back over the reduced axes of ``shape``."""
    if dim is not None and not keepdim:
        grad = np.expand_dims(grad, dim)
    return np.broadcast_to(grad, shape)


def _expand_back_graph(grad, shape, dim, keepdim):
    """``_expand_back`` in recorded ops on a Tensor ``grad``."""
    if dim is not None and not keepdim:
        kept = list(shape)
        for d in (dim if isinstance(dim, tuple) else (dim,)):
            kept[d] = 1
        grad = Reshape.apply(grad, shape=tuple(kept))
    return grad if grad.shape == shape else Expand.apply(grad, shape=tuple(shape))


def _count(shape, dim):
    if dim is None:
        return int(np.prod(shape))
    dims = dim if isinstance(dim, tuple) else (dim,)
    return int(np.prod([shape[d] for d in dims]))


def _dim_name(base):
    """PyTorch's SumBackward0 (all elements) / SumBackward1 (dims given), and so for mean."""
    return staticmethod(lambda is_tensor, arrays, static: f"{base}Backward"
                        f"{0 if static.get('dim') is None else 1}")


class Sum(Function):
    name_for = _dim_name("Sum")
    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        ctx.meta = (a.shape, dim, keepdim)
        # (in the input's dtype: numpy would widen small integers, torch's dtype= wraps)
        return np.asarray(np.sum(a, axis=dim, keepdims=keepdim, dtype=a.dtype))

    @staticmethod
    def backward(ctx, grad):
        shape, dim, keepdim = ctx.meta
        return _expand_back(grad, shape, dim, keepdim)

    @staticmethod
    def backward_graph(ctx, grad):
        shape, dim, keepdim = ctx.meta
        return _expand_back_graph(grad, shape, dim, keepdim)


class Mean(Function):
    name_for = _dim_name("Mean")
    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        with _quiet():
            out = np.asarray(np.mean(a, axis=dim, keepdims=keepdim))
        ctx.meta = (a.shape, dim, keepdim)
        ctx.count = _count(a.shape, dim)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dim, keepdim = ctx.meta
        with _quiet():
            return _expand_back(grad / grad.dtype.type(ctx.count), shape, dim, keepdim)

    @staticmethod
    def backward_graph(ctx, grad):
        shape, dim, keepdim = ctx.meta
        with _quiet():
            return _expand_back_graph(grad / ctx.count, shape, dim, keepdim)


def _var_backward(ctx, grad, a):
    """d var / d a = 2 (a - mean) / (n - correction), PyTorch's var_backward."""
    shape, dim, keepdim, correction = ctx.meta
    if ctx.whole and _count(shape, dim) - correction <= 0:   # see _var_backward_graph
        with _quiet():
            scale = np.where(a == np.mean(a), np.nan, np.inf).astype(a.dtype)
        return _expand_back(grad, shape, dim, keepdim) * scale
    with _quiet():
        scale = grad.dtype.type(2.0) / grad.dtype.type(_count(shape, dim) - correction)
        centred = a - np.mean(a, axis=dim, keepdims=True)
        return _expand_back(grad, shape, dim, keepdim) * scale * centred


def _var_backward_graph(ctx, grad, a):
    """``_var_backward`` in recorded ops (``a`` the saved input as a Tensor)."""
    shape, dim, keepdim, correction = ctx.meta
    if ctx.whole and _count(shape, dim) - correction <= 0:
        # PyTorch's var() without a dim (or of a 0-d tensor): no degrees of freedom -> NaN
        # where a equals its mean, else inf, constants (0-d inputs arrive as 1-element ones).
        # With a dim, even one that covers the tensor, torch records the formula below.
        x = a._data
        with _quiet():
            scale = np.where(x == np.mean(x), np.nan, np.inf).astype(x.dtype)
        return _expand_back_graph(grad, shape, dim, keepdim) * ctx.constant(scale)
    with _quiet():
        scale = 2.0 / (_count(shape, dim) - correction) if _count(shape, dim) != correction \
            else float("inf")
        centred = a - a.mean(dim=dim, keepdim=True)
        return _expand_back_graph(grad, shape, dim, keepdim) * scale * centred


def _var(a, dim, keepdim, correction):
    """The variance with ``correction`` (numpy's ddof), nan/inf when n - correction <= 0 as in
    PyTorch, without numpy's "degrees of freedom" warning."""
    centred = a - np.mean(a, axis=dim, keepdims=True)
    squares = np.sum(centred * centred, axis=dim, keepdims=keepdim)
    denom = max(_count(a.shape, dim) - correction, 0)
    with _quiet():
        return np.asarray(squares / a.dtype.type(denom))


class Var(Function):
    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False, correction=1, whole=False):
        ctx.save_for_backward(a)
        ctx.meta = (a.shape, dim, keepdim, correction)
        ctx.whole = whole   # var() of everything (no dim given, or a 0-d input)
        return _var(a, dim, keepdim, correction)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return _var_backward(ctx, grad, a)

    @staticmethod
    def backward_graph(ctx, grad):
        (a,) = ctx.saved_tensors
        return _var_backward_graph(ctx, grad, ctx.saved_input(0, a))


class Std(Function):
    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False, correction=1, whole=False):
        out = np.sqrt(_var(a, dim, keepdim, correction))
        ctx.save_for_backward(a, out)
        ctx.meta = (a.shape, dim, keepdim, correction)
        ctx.whole = whole
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        # PyTorch masks the 1 / (2 std) factor where std is 0: a constant input gets gradient 0.
        with _quiet():
            grad_var = np.where(out == 0, np.zeros((), grad.dtype), grad / (2 * out))
        return _var_backward(ctx, grad_var, a)

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        with _quiet():
            grad_var = Where.apply(ctx.constant(out == 0),
                                   ctx.constant(np.zeros((), grad._data.dtype)),
                                   grad / (2 * ctx.saved_output(out)))
        return _var_backward_graph(ctx, grad_var, ctx.saved_input(0, a))


class _ExtremeAll(Function):
    """Max/min over the whole tensor; ties share the gradient evenly (PyTorch's
    evenly_distribute_backward), and a NaN result sends it to the NaNs."""

    reduce = None

    @classmethod
    def _forward(cls, ctx, a):
        out = np.asarray(cls.reduce(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        mask = np.isnan(a) if np.isnan(out) else a == out
        return np.where(mask, grad / mask.sum(), np.zeros((), grad.dtype)).astype(grad.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        mask = np.isnan(a) if np.isnan(out) else a == out
        return Where.apply(ctx.constant(mask), grad / int(mask.sum()),
                           ctx.constant(np.zeros((), grad._data.dtype)))


class MaxAll(_ExtremeAll):
    node_name = "MaxBackward1"
    reduce = np.max

    @staticmethod
    def forward(ctx, a):
        return MaxAll._forward(ctx, a)


class MinAll(_ExtremeAll):
    node_name = "MinBackward1"
    reduce = np.min

    @staticmethod
    def forward(ctx, a):
        return MinAll._forward(ctx, a)


class _ExtremeDim(Function):
    """Max/min along ``dim``: returns (values, indices); the gradient goes to the index taken
    (the first of equal values, NaN counting as the largest), as PyTorch's max.dim."""

    arg = None

    @classmethod
    def _forward(cls, ctx, a, dim, keepdim):
        idx = np.expand_dims(cls.arg(a, axis=dim), dim)
        values = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            values, idx = np.squeeze(values, dim), np.squeeze(idx, dim)
        idx = idx.astype(np.int64, copy=False)
        ctx.mark_non_differentiable(idx)
        ctx.meta = (a.shape, dim, keepdim, idx)
        return values, idx

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        shape, dim, keepdim, idx = ctx.meta
        if not keepdim:
            grad, idx = np.expand_dims(grad, dim), np.expand_dims(idx, dim)
        out = np.zeros(shape, grad.dtype)
        np.put_along_axis(out, idx, grad, axis=dim)
        return out

    @staticmethod
    def backward_graph(ctx, grad, _grad_idx):
        # the scatter as a select: the grad broadcast over dim, kept where the index was taken
        shape, dim, keepdim, idx = ctx.meta
        taken = np.zeros(shape, bool)
        np.put_along_axis(taken, idx if keepdim else np.expand_dims(idx, dim), True, axis=dim)
        full = _expand_back_graph(grad, shape, dim, keepdim)
        return Where.apply(ctx.constant(taken), full,
                           ctx.constant(np.zeros((), grad._data.dtype)))


class MaxDim(_ExtremeDim):
    node_name = "MaxBackward0"
    arg = np.argmax

    @staticmethod
    def forward(ctx, a, *, dim, keepdim=False):
        return MaxDim._forward(ctx, a, dim, keepdim)


class MinDim(_ExtremeDim):
    node_name = "MinBackward0"
    arg = np.argmin

    @staticmethod
    def forward(ctx, a, *, dim, keepdim=False):
        return MinDim._forward(ctx, a, dim, keepdim)


class _Amax(Function):
    """amax/amin over ``dim`` (None: all): ties in a slice share its gradient evenly; a slice
    holding NaN gets NaN gradients (0 of the count), as PyTorch's."""

    reduce = None

    @classmethod
    def _forward(cls, ctx, a, dim, keepdim):
        out = np.asarray(cls.reduce(a, axis=dim, keepdims=keepdim))
        ctx.save_for_backward(a, out)
        ctx.meta = (dim, keepdim)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        dim, keepdim = ctx.meta
        mask = a == _expand_back(out, a.shape, dim, keepdim)
        count = mask.sum(axis=dim, keepdims=True)
        with _quiet():
            g = _expand_back(grad, a.shape, dim, keepdim) / count.astype(grad.dtype)
            return g * mask

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        dim, keepdim = ctx.meta
        dt = grad._data.dtype
        mask = a == _expand_back(out, a.shape, dim, keepdim)
        with _quiet():
            count = ctx.constant(mask.sum(axis=dim, keepdims=True).astype(dt))
            g = _expand_back_graph(grad, a.shape, dim, keepdim) / count
            return g * ctx.constant(mask.astype(dt))


class Amax(_Amax):
    node_name = "AmaxBackward0"
    reduce = np.max

    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        return Amax._forward(ctx, a, dim, keepdim)


class Amin(_Amax):
    node_name = "AminBackward0"
    reduce = np.min

    @staticmethod
    def forward(ctx, a, *, dim=None, keepdim=False):
        return Amin._forward(ctx, a, dim, keepdim)


class _ArgExtreme(Function):
    """argmax/argmin along ``dim`` (int64 indices, no gradient): the first of equal values."""

    arg = None

    @classmethod
    def _forward(cls, a, dim, keepdim):
        out = cls.arg(a, axis=dim)
        if keepdim:
            out = np.expand_dims(out, dim)
        return np.asarray(out, dtype=np.int64)


class ArgMax(_ArgExtreme):
    arg = np.argmax

    @staticmethod
    def forward(ctx, a, *, dim, keepdim=False):
        return ArgMax._forward(a, dim, keepdim)


class ArgMin(_ArgExtreme):
    arg = np.argmin

    @staticmethod
    def forward(ctx, a, *, dim, keepdim=False):
        return ArgMin._forward(a, dim, keepdim)


class Logical(Function):
    """all/any over ``dim`` (None: every axis) with ``fn`` np.all or np.any; a bool result."""

    @staticmethod
    def forward(ctx, a, *, fn, dim=None, keepdim=False):
        return np.asarray(fn(a, axis=dim, keepdims=keepdim))


class LogSumExp(Function):
    """log(sum(exp(a), dim)), shifted by the (finite) maximum; saves input and result as torch
    does (so an in-place change to either before backward is its version error)."""

    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, a, *, dim, keepdim):
        with _quiet():
            m = np.amax(a, axis=dim, keepdims=True)
            m = np.where(np.isinf(m), np.zeros((), a.dtype), m)   # all -inf/inf: no shift
            out = np.log(np.sum(np.exp(a - m), axis=dim, keepdims=True)) + m
        if not keepdim:
            out = np.squeeze(out, axis=dim)
        out = np.asarray(out)
        ctx.save_for_backward(a, out)
        ctx.meta = (a.shape, dim, keepdim)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        shape, dim, keepdim = ctx.meta
        with _quiet():   # -inf - -inf: NaN, as torch's
            return (_expand_back(grad, shape, dim, keepdim)
                    * np.exp(a - _expand_back(out, shape, dim, keepdim)))

    @staticmethod
    def backward_graph(ctx, grad):
        a, out = ctx.saved_tensors
        shape, dim, keepdim = ctx.meta
        centred = ctx.saved_input(0, a) - _expand_back_graph(ctx.saved_output(out), shape, dim,
                                                             keepdim)
        return _expand_back_graph(grad, shape, dim, keepdim) * centred.exp()
