"""``Adamax``, ``NAdam`` and ``RAdam``, step for step ``torch.optim``'s (the single-tensor path,
PyTorch's default on the CPU), each parameter updated by one fused kernel
(``minitorch/kernels/adam_variants.py``).

The scalars are formed as PyTorch forms them: in Python doubles from the step count, except
NAdam's running product of momentum coefficients, a 0-d float32 tensor in the state
(``mu_product``) multiplied in float32, as PyTorch keeps it.
"""
import numpy as np

from minitorch.kernels.adam_variants import (adamax_update_, adamax_update_serial_, nadam_update_,
                                             nadam_update_serial_, radam_update_,
                                             radam_update_serial_)

from ._fused import FusedOptimizer, check_hyper, scalar_state
from .adam import _as_betas, check_adam_hypers

__all__ = ["Adamax", "NAdam", "RAdam"]


class _AdamFamily(FusedOptimizer):
    """The hyperparameter checks and moment scalars the three share."""

    _EXTRA_HYPERS = ()

    def _validate_group(self, group: dict) -> None:
        check_adam_hypers(group)
        for key, label in self._EXTRA_HYPERS:
            check_hyper(label, group[key])

    @staticmethod
    def _moment_args(group: dict, cast) -> tuple:
        """``(decay_factor, weight_decay, beta1_weight, 1 - beta1_weight, beta2, 1 - beta2)``."""
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        beta1_weight = cast(1 - beta1)  # lerp's weight, and lerp's 1 - weight in its dtype
        return (1 - lr * wd, wd, beta1_weight, cast(1) - beta1_weight, beta2, 1 - beta2)


def _defaults(lr, betas, eps, weight_decay, foreach, maximize, capturable, differentiable,
              **more):
    return {"lr": lr, "betas": _as_betas(betas), "eps": eps, "weight_decay": weight_decay,
            **more, "foreach": foreach, "maximize": maximize, "capturable": capturable,
            "differentiable": differentiable}


class Adamax(_AdamFamily):
    """Implements Adamax (Adam with the infinity norm), like ``torch.optim.Adamax``.

    Args: ``params``, ``lr`` (2e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay``
    (0, L2), ``foreach`` (ignored), keyword-only ``maximize`` (False); ``capturable`` and
    ``differentiable`` False only. State per parameter: ``step``, ``exp_avg``, ``exp_inf``.
    """

    _KERNELS = (adamax_update_, adamax_update_serial_)
    _STATE_BUFFERS = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = _defaults(lr, betas, eps, weight_decay, foreach, maximize, capturable,
                             differentiable)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _buffers(self, group: dict) -> list:
        return [("exp_avg", 0.0), ("exp_inf", 0.0)]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        _, wd, w, one_minus_w, beta2, _ = self._moment_args(group, cast)
        clr = group["lr"] / (1 - group["betas"][0] ** step)
        return (wd, w, one_minus_w, beta2, group["eps"], -clr)

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])),)


class NAdam(_AdamFamily):
    """Implements NAdam (Adam with Nesterov momentum), like ``torch.optim.NAdam``.

    Args: ``params``, ``lr`` (2e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay``
    (0), ``momentum_decay`` (4e-3), ``decoupled_weight_decay`` (False: L2; True: NAdamW),
    keyword-only ``foreach`` (ignored), ``maximize`` (False); ``capturable`` and
    ``differentiable`` False only.
    State per parameter: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.
    """

    _KERNELS = (nadam_update_, nadam_update_serial_)
    _STATE_BUFFERS = ("exp_avg", "exp_avg_sq")
    _EXTRA_HYPERS = (("momentum_decay", "momentum_decay value"),)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = _defaults(lr, betas, eps, weight_decay, foreach, maximize, capturable,
                             differentiable, momentum_decay=momentum_decay,
                             decoupled_weight_decay=decoupled_weight_decay)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _buffers(self, group: dict) -> list:
        return [("exp_avg", 0.0), ("exp_avg_sq", 0.0)]

    def _init_state(self, p, group: dict) -> dict:
        state = super()._init_state(p, group)
        state["mu_product"] = scalar_state({}, "mu_product", 1.0)
        return {key: state[key] for key in ("step", "mu_product", "exp_avg", "exp_avg_sq")}

    def _state_kernel_args(self, state: dict, group: dict, step: float, cast) -> tuple:
        lr, beta1, beta2 = group["lr"], *group["betas"]
        decay = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * decay)))
        product = scalar_state(state, "mu_product", 1.0)
        product._data[...] = product._data * np.float32(mu)   # mu_product *= mu, in float32
        product._bump_version()
        mu_product = float(product._data)
        mu_product_next = mu_product * mu_next
        return (*self._moment_args(group, cast), 1 - beta2 ** step, group["eps"],
                -lr * (1.0 - mu) / (1.0 - mu_product), (-lr * mu_next) / (1.0 - mu_product_next))

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])), int(bool(group["decoupled_weight_decay"])))


class RAdam(_AdamFamily):
    """Implements RAdam (rectified Adam), like ``torch.optim.RAdam``.

    Args: ``params``, ``lr`` (1e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay``
    (0), ``decoupled_weight_decay`` (False), keyword-only ``foreach`` (ignored), ``maximize``
    (False); ``capturable`` and ``differentiable`` False only.
    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    _KERNELS = (radam_update_, radam_update_serial_)
    _STATE_BUFFERS = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = _defaults(lr, betas, eps, weight_decay, foreach, maximize, capturable,
                             differentiable, decoupled_weight_decay=decoupled_weight_decay)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _buffers(self, group: dict) -> list:
        return [("exp_avg", 0.0), ("exp_avg_sq", 0.0)]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        beta1, beta2 = group["betas"]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1        # the approximated SMA's maximum length
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rectified = rho_t > 5.0
        rect = (((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                ** 0.5 if rectified else 1.0)
        return (*self._moment_args(group, cast), bias_correction1, group["lr"],
                bias_correction2 ** 0.5, group["eps"], rect, float(rectified))

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])), int(bool(group["decoupled_weight_decay"])))

