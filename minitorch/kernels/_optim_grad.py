"""The gradient step every fused per-element optimizer update starts with (torch's order)."""
from numba import njit

__all__ = ["decayed_grad"]


@njit(cache=True)
def decayed_grad(param, grad, i, weight_decay, maximize):
    """``(g, p)`` for element ``i``: ``p = param[i]``, ``g = grad[i]`` negated when maximizing,
    then ``g + weight_decay * p`` (``grad.add(param, alpha=weight_decay)``) when decaying."""
    g = grad[i]
    if maximize:
        g = -g
    p = param[i]
    if weight_decay != 0:
        g = g + weight_decay * p
    return g, p
