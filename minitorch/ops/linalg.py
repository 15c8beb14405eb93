"""``einsum`` as a Function: forward is ``np.einsum``, and the gradient of each operand is an
einsum too (the output gradient contracted with the other operands).

The equation arrives parsed (``_ops_linalg.parse_einsum``): explicit letters for every operand
and the output, '...' already expanded, so backward only has to handle two things einsum's output
can't express directly: an operand letter repeated (a trace or diagonal: its gradient lands on
that diagonal) and a letter that appears in no other operand nor the output (summed away: its
gradient is broadcast back along it).
"""
import numpy as np

from ..autograd.function import Function

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
        sizes = {}
        for sub, shape in zip(inputs, shapes):
            for c, n in zip(sub, shape):
                sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]  # (1 broadcasts, 0 not)
        return tuple(_operand_grad(i, grad, arrays, inputs, output, shapes, sizes)
                     if need else None for i, need in enumerate(ctx.needs_input_grad))


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
