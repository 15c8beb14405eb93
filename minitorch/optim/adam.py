"""``Adam`` and ``AdamW``, step for step ``torch.optim.Adam``/``AdamW`` (the single-tensor path,
which is PyTorch's default on the CPU).

Adam adds ``weight_decay * param`` to the gradient (L2); AdamW (``decoupled_weight_decay``)
instead shrinks the parameter by ``1 - lr * weight_decay`` before the moments are updated. Both
bias-correct as PyTorch does: ``step_size = lr / (1 - beta1**step)`` and the denominator
``sqrt(v) / sqrt(1 - beta2**step) + eps``, the corrections formed in Python doubles.
"""
import numbers

from minitorch.kernels.adam import adam_update_, adam_update_serial_

from ._fused import FusedOptimizer, check_flag, check_hyper

__all__ = ["Adam", "AdamW", "check_adam_hypers"]


class Adam(FusedOptimizer):
    """Implements Adam, like ``torch.optim.Adam``.

    Args: ``params``, ``lr`` (1e-3), ``betas`` ((0.9, 0.999)), ``eps`` (1e-8), ``weight_decay``
    (0), ``amsgrad`` (False: keep the running maximum of ``exp_avg_sq``), keyword-only
    ``maximize`` (False) and ``decoupled_weight_decay`` (False; True is AdamW). ``foreach`` is
    accepted and ignored (every parameter is one fused pass); ``capturable``, ``differentiable``
    and ``fused`` are accepted at their defaults only.
    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    """

    _KERNELS = (adam_update_, adam_update_serial_)
    _STATE_BUFFERS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = {"lr": lr, "betas": _as_betas(betas), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_adam_hypers(group)
        check_flag("fused", group.get("fused"), (None, False))

    def _buffers(self, group: dict) -> list:
        return [("exp_avg", 0.0), ("exp_avg_sq", 0.0),
                ("max_exp_avg_sq" if group["amsgrad"] else None, 0.0)]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        beta1_weight = cast(1 - beta1)  # lerp's weight, and lerp's 1 - weight in its dtype
        return (1 - lr * wd, wd, beta1_weight, cast(1) - beta1_weight, beta2,
                1 - beta2, bias_correction2_sqrt, group["eps"], -step_size)

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["amsgrad"])), int(bool(group["maximize"])),
                int(bool(group["decoupled_weight_decay"])))


class AdamW(Adam):
    """Implements AdamW (Adam with decoupled weight decay), like ``torch.optim.AdamW``; the
    same arguments as ``Adam`` with ``weight_decay`` defaulting to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # as PyTorch: an AdamW always decays decoupled
            group["decoupled_weight_decay"] = True


def check_adam_hypers(group: dict) -> None:
    """PyTorch's checks of the hyperparameters the Adam family shares (lr, eps, betas, weight
    decay; capturable and differentiable False only); ``betas`` is made a tuple in place."""
    check_hyper("learning rate", group["lr"])
    check_hyper("epsilon value", group["eps"])
    betas = group["betas"] = _as_betas(group["betas"])
    check_hyper("beta parameter at index 0", betas[0], high=1.0, high_open=True)
    check_hyper("beta parameter at index 1", betas[1], high=1.0, high_open=True)
    check_hyper("weight_decay value", group["weight_decay"])
    check_flag("capturable", group.get("capturable", False), (False,))
    check_flag("differentiable", group.get("differentiable", False), (False,))


def _as_betas(betas):
    """A pair of numbers as a tuple (lists come back from YAML and HDF5)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    values = []
    for b in betas:
        b = b.item() if hasattr(b, "item") else b
        if isinstance(b, bool) or not isinstance(b, numbers.Real):
            raise ValueError(f"Invalid betas: {betas!r} (expected two numbers)")
        values.append(b)
    return tuple(values)

