"""Embedding lookup and Lp normalisation as Functions.

``Embedding`` gathers weight rows by index; backward scatters with ``np.add.at`` (repeated
indices accumulate), leaves the ``padding_idx`` row at zero and, with ``scale_grad_by_freq``,
divides each row's gradient by how often the batch used it. ``Normalize`` is
``x / max(||x||_p, eps)`` along a dim with PyTorch's gradient (0 through a zero norm).
"""
import numpy as np

from ..autograd.function import Function
from .adjoint import LinearMap
from .elementwise import Where

__all__ = ["Embedding", "Normalize"]


class Embedding(Function):
    """``Embedding.apply(weight, indices_array, padding_idx=, scale_grad_by_freq=)``."""

    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, idx, *, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.static = idx, (weight.shape, padding_idx, scale_grad_by_freq)
        return weight[idx]

    @staticmethod
    def backward(ctx, grad):
        return _embedding_grad(ctx.idx, ctx.static, grad), None

    @staticmethod
    def backward_graph(ctx, grad):
        idx, static = ctx.idx, ctx.static
        return LinearMap.apply(grad, fn=lambda g: _embedding_grad(idx, static, g),
                               adjoint=lambda gg: _embedding_grad_adjoint(idx, static, gg),
                               name="EmbeddingDenseBackwardBackward0",
                               adjoint_name="EmbeddingBackward0"), None


def _row_counts(flat, V, by_freq, dtype):
    """How often each looked-up row was used, with ``scale_grad_by_freq`` (else None)."""
    return np.bincount(flat, minlength=V)[flat][:, None].astype(dtype) if by_freq else None


def _embedding_grad(idx, static, grad):
    """The weight gradient: each looked-up row's gradient added onto its row."""
    (V, D), padding_idx, by_freq = static
    flat = idx.reshape(-1)
    g = np.ascontiguousarray(grad).reshape(-1, D)
    counts = _row_counts(flat, V, by_freq, g.dtype)
    if counts is not None:
        g = g / counts
    grad_w = np.zeros((V, D), grad.dtype)
    np.add.at(grad_w, flat, g)
    if padding_idx is not None:
        grad_w[padding_idx] = 0
    return grad_w


def _embedding_grad_adjoint(idx, static, gg):
    """torch's double backward of the weight gradient: the rows looked up again, the padding
    row's lookups at zero. torch leaves out ``scale_grad_by_freq`` here (its
    ``embedding_dense_double_backward``), so the second derivative is torch's, not the exact
    transpose, when it is set."""
    (V, D), padding_idx, _ = static
    flat = idx.reshape(-1)
    out = gg[flat]
    if padding_idx is not None:
        out[flat == padding_idx] = 0
    return out.reshape(idx.shape + (D,))


class Normalize(Function):
    """``Normalize.apply(x, p=, dim=, eps=)``."""

    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, x, *, p, dim, eps):
        # the norm in float64, rounded once (torch accumulates float32 norms in double): the
        # norm of one element is exactly its magnitude
        a = np.abs(x.astype(np.float64))
        n = np.sqrt((a * a).sum(dim, keepdims=True)) if p == 2 else \
            (a ** p).sum(dim, keepdims=True) ** (1.0 / p)
        n = n.astype(x.dtype)
        d = np.maximum(n, x.dtype.type(eps))
        ctx.save_for_backward(x)
        ctx.stats = (n, d, p, dim, eps)
        return x / d

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        n, d, p, dim, eps = ctx.stats
        s = (grad * x).sum(dim, keepdims=True) / (d * d)
        s = np.where(n >= eps, s, 0)  # clamp_min passes the gradient only where n >= eps
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                dn = np.where(n > 0, x / n, 0)
            else:
                dn = np.where(n > 0, np.sign(x) * np.abs(x) ** (p - 1) / n ** (p - 1), 0)
        return (grad / d - s * dn).astype(x.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        """The same formula in recorded ops of ``x`` (and ``grad``), for create_graph; the
        masks are constants, and the zero norm is replaced by 1 under them (so no 0/0 reaches
        a higher derivative)."""
        (x,) = ctx.saved_tensors
        n_arr, d_arr, p, dim, eps = ctx.stats
        xt = ctx.saved_input(0, x)

        def total(t):
            return t.sum(dim=dim, keepdim=True) if dim is not None else t

        a = xt.abs()
        n = total(xt * xt).sqrt() if p == 2 else total(a ** p) ** (1.0 / p)
        live = ctx.constant(n_arr > 0)
        d = Where.apply(live, n, ctx.constant(np.zeros((), x.dtype))).clamp(min=eps)
        n = Where.apply(live, n, ctx.constant(np.ones((), x.dtype)))
        s = total(grad * xt) / (d * d) * ctx.constant((n_arr >= eps).astype(x.dtype))
        dn = xt / n if p == 2 else ctx.constant(np.sign(x)) * a ** (p - 1) / n ** (p - 1)
        return grad / d - s * (dn * ctx.constant(live._data.astype(x.dtype)))
