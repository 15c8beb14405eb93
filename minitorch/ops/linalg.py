"""``einsum`` as a Function: forward is ``np.einsum``, and the gradient of each operand is an
einsum too (the output gradient contracted with the other operands).

The equation arrives parsed (``_ops_linalg.parse_einsum``): explicit letters for every operand
and the output, '...' already expanded, so backward only has to handle two things einsum's output
can't express directly: an operand letter repeated (a trace or diagonal: its gradient lands on
that diagonal) and a letter that appears in no other operand nor the output (summed away: its
gradient is broadcast back along it).
"""
import numpy as np

from ..autograd.function import Function, _once_differentiable
from .adjoint import LinearMap

__all__ = ["Einsum"]


class Einsum(Function):
    node_name = "EinsumBackward0"

    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        ctx.save_for_backward(*(a if any(n for j, n in enumerate(ctx.needs_input_grad) if j != i)
                                else None for i, a in enumerate(arrays)))
        ctx.spec = (inputs, output, tuple(a.shape for a in arrays))
        eq = ",".join(inputs) + "->" + output
        return np.einsum(eq, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, grad):
        inputs, output, shapes = ctx.spec
        arrays = ctx.saved_tensors
        sizes = _letter_sizes(inputs, shapes)
        return tuple(_operand_grad(i, grad, arrays, inputs, output, shapes, sizes)
                     if need else None for i, need in enumerate(ctx.needs_input_grad))

    @staticmethod
    def backward_graph(ctx, grad):
        """Each operand's gradient in recorded ops: the einsum of ``grad`` with the other
        operands, broadcast and transposed back (one operand: a linear map of ``grad`` alone,
        so it needs no gradient unless ``grad`` does, as torch's). An operand with a repeated
        letter gets a right first gradient whose differentiation raises (not supported)."""
        inputs, output, shapes = ctx.spec
        sizes = _letter_sizes(inputs, shapes)
        needs = ctx.needs_input_grad
        if any(need and len(set(sub)) != len(sub) for need, sub in zip(needs, inputs)):
            return _once_differentiable(ctx, (grad,), ctx._make)
        if len(inputs) == 1:
            eq = inputs[0] + "->" + output
            return LinearMap.apply(
                grad, fn=lambda g: _operand_grad(0, g, (None,), inputs, output, shapes, sizes),
                adjoint=lambda gg: np.einsum(eq, gg), name="ExpandBackward0",
                adjoint_name="EinsumBackward0"),
        tensors = [None if a is None else ctx.saved_input(j, a)
                   for j, a in enumerate(ctx.saved_tensors)]
        return tuple(_operand_grad_graph(i, grad, tensors, inputs, output, shapes, sizes)
                     if need else None for i, need in enumerate(needs))


def _operand_grad_graph(i, grad, tensors, inputs, output, shapes, sizes):
    """``_operand_grad`` in recorded ops, for an operand without repeated letters."""
    sub = inputs[i]
    others = [(s, t) for j, (s, t) in enumerate(zip(inputs, tensors)) if j != i]
    known = set(output).union(*[set(s) for s, _ in others])
    have = "".join(c for c in sub if c in known)
    g = Einsum.apply(grad, *[t for _, t in others], inputs=(output, *[s for s, _ in others]),
                     output=have)
    g = g.reshape([sizes[c] if c in have else 1 for c in sub]).expand(*[sizes[c] for c in sub])
    axes = tuple(k for k, c in enumerate(sub) if shapes[i][k] == 1 and sizes[c] != 1)
    return g.sum(dim=axes, keepdim=True) if axes else g


def _letter_sizes(inputs, shapes):
    sizes = {}
    for sub, shape in zip(inputs, shapes):
        for c, n in zip(sub, shape):
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]  # (1 broadcasts, 0 not)
    return sizes


def _operand_grad(i, grad, arrays, inputs, output, shapes, sizes):
    sub = inputs[i]
    unique = "".join(dict.fromkeys(sub))
    others = [(s, a) for j, (s, a) in enumerate(zip(inputs, arrays)) if j != i]
    known = set(output).union(*[set(s) for s, _ in others]) if others else set(output)
    have = "".join(c for c in unique if c in known)
    eq = ",".join([output] + [s for s, _ in others]) + "->" + have
    g = np.einsum(eq, grad, *[a for _, a in others], optimize=len(others) > 1)
    # letters summed in this operand alone: the gradient is the same all along them
    g = g.reshape([sizes[c] if c in have else 1 for c in unique])
    g = np.broadcast_to(g, [sizes[c] for c in unique])
    # a size-1 dim broadcast against a larger one elsewhere: sum the gradient back to size 1
    full = [sizes[c] for c in unique]
    own = {c: n for c, n in zip(sub, shapes[i])}
    axes = tuple(k for k, c in enumerate(unique) if own[c] == 1 and full[k] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if len(unique) == len(sub):
        return np.transpose(g, [unique.index(c) for c in sub]) if unique != sub else g
    # repeated letters: place the gradient on that diagonal of a zero array
    out = np.zeros(shapes[i], grad.dtype)
    np.einsum(sub + "->" + unique, out)[...] = g
    return out
