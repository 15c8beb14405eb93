"""Fused Rprop and ASGD updates, one pass over memory per parameter each, in the order of
``torch.optim.rprop._single_tensor_rprop`` and ``asgd._single_tensor_asgd``."""
from numba import njit, prange

from ._optim_grad import decayed_grad
from .twin import serial_twin

__all__ = ["rprop_update_", "rprop_update_serial_", "asgd_update_", "asgd_update_serial_"]


@njit(cache=True)
def _sign(x):
    """``torch.sign``: -1, 0 or 1, NaN for NaN."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x * 0.0 if x != x else 0.0


@njit(cache=True, parallel=True)
def rprop_update_(param, prev, step_size, grad, etaminus, etaplus, step_size_min, step_size_max,
                  maximize):
    """Rprop: the sign of ``g * prev`` picks the step size's factor (``etaplus`` > 0,
    ``etaminus`` < 0, 1 at 0; NaN stays NaN), the step size is clamped to ``[min, max]``, a
    gradient whose sign flipped counts as 0 (for the step and as the next ``prev``), and
    ``param -= sign(g) * step_size``.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        g = grad[i]
        if maximize:
            g = -g
        factor = _sign(g * prev[i])
        if factor > 0:
            factor = etaplus
        elif factor < 0:
            factor = etaminus
        elif factor == 0:
            factor = factor * 0 + 1
        s = step_size[i] * factor
        # clamp_(min, max) as torch: NaN stays NaN
        if s < step_size_min:
            s = step_size_min
        if s > step_size_max:
            s = step_size_max
        step_size[i] = s
        if factor == etaminus:
            g = step_size_min - step_size_min    # grad[sign.eq(etaminus)] = 0, in its dtype
        param[i] = param[i] - _sign(g) * s   # param.addcmul_(grad.sign(), step_size, value=-1)
        prev[i] = g


@njit(cache=True, parallel=True)
def asgd_update_(param, ax, grad, weight_decay, decay, neg_eta, mu, maximize):
    """ASGD: ``param = param * decay - eta * g`` (``decay = 1 - lambd * eta``), then the average
    ``ax += (param - ax) * mu``, or ``ax = param`` when ``mu`` is 1.

    Parallel axis: the flat element index; iteration ``i`` touches only element ``i``.
    """
    for i in prange(param.shape[0]):
        g, p = decayed_grad(param, grad, i, weight_decay, maximize)
        p = p * decay                          # param.mul_(1 - lambd * eta)
        p = p + neg_eta * g                    # param.add_(grad, alpha=-eta)
        param[i] = p
        if mu != 1:
            ax[i] = ax[i] + (p - ax[i]) * mu   # ax.add_(param.sub(ax).mul_(mu))
        else:
            ax[i] = p


rprop_update_serial_ = serial_twin(rprop_update_, "rprop_update_serial_")
asgd_update_serial_ = serial_twin(asgd_update_, "asgd_update_serial_")
