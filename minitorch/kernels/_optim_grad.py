"""The steps the fused per-element optimizer updates share, in torch's order: the decayed
gradient, ``lerp``, and Adam's two moments."""
from numba import njit

__all__ = ["decayed_grad", "lerp", "adam_moments_"]


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


@njit(cache=True)
def lerp(start, end, weight, one_minus_weight):
    """``torch.lerp``'s two branches (``|weight| < 0.5`` or not)."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * one_minus_weight


@njit(cache=True)
def adam_moments_(param, exp_avg, exp_avg_sq, grad, i, decay_factor, weight_decay, beta1_weight,
                  one_minus_beta1_weight, beta2, one_minus_beta2, maximize, decoupled):
    """Adam's first step for element ``i`` (Adam, AdamW, NAdam, RAdam): the gradient negated when
    maximizing, the decay (decoupled: ``param.mul_(1 - lr * weight_decay)``; else L2:
    ``grad.add(param, alpha=weight_decay)``), ``exp_avg.lerp_(grad, 1 - beta1)`` and
    ``exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)``, both written back.
    Returns ``(g, p, m, v)``."""
    g = grad[i]
    if maximize:
        g = -g
    p = param[i]
    if weight_decay != 0:
        if decoupled:
            p = p * decay_factor
        else:
            g = g + weight_decay * p
    m = lerp(exp_avg[i], g, beta1_weight, one_minus_beta1_weight)
    exp_avg[i] = m
    v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
    exp_avg_sq[i] = v
    return g, p, m, v
