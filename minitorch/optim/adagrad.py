"""``Adagrad`` and ``Adadelta``, step for step ``torch.optim.Adagrad``/``Adadelta``
(single-tensor paths, dense gradients).

Adagrad divides by the root of the sum of all squared gradients so far, with the lr decayed as
``lr / (1 + (step - 1) * lr_decay)``; like PyTorch it creates its state (``sum`` filled with
``initial_accumulator_value``) for every parameter when it is built. Adadelta keeps running
averages of squared gradients and squared updates (``rho``) and needs no lr tuning (lr 1.0).
"""
from minitorch.kernels.adagrad import (adadelta_update_, adadelta_update_serial_,
                                       adagrad_update_, adagrad_update_serial_)

from ._fused import FusedOptimizer, check_flag, check_hyper

__all__ = ["Adagrad", "Adadelta"]


class Adagrad(FusedOptimizer):
    """Implements Adagrad, like ``torch.optim.Adagrad``.

    Args: ``params``, ``lr`` (1e-2), ``lr_decay`` (0), ``weight_decay`` (0),
    ``initial_accumulator_value`` (0), ``eps`` (1e-10), ``foreach`` (ignored), keyword-only
    ``maximize`` (False), ``differentiable``/``fused`` (defaults only).
    State per parameter (created at construction, for a group added later at its first
    step): ``step``, ``sum``.
    """

    _KERNELS = (adagrad_update_, adagrad_update_serial_)
    _STATE_BUFFERS = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        self._validate_group(defaults)
        super().__init__(params, defaults)
        # eager, as PyTorch's constructor does; a group added later gets its state lazily, at
        # its parameters' first step with a gradient (PyTorch's add_param_group adds none)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p, group)

    def _validate_group(self, group: dict) -> None:
        check_hyper("learning rate", group["lr"])
        check_hyper("lr_decay value", group["lr_decay"])
        check_hyper("weight_decay value", group["weight_decay"])
        check_hyper("initial_accumulator_value value", group["initial_accumulator_value"])
        check_hyper("epsilon value", group["eps"])
        check_flag("differentiable", group.get("differentiable", False), (False,))
        check_flag("fused", group.get("fused"), (None, False))

    def _buffers(self, group: dict) -> list:
        return [("sum", group["initial_accumulator_value"])]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        return (group["weight_decay"], group["eps"], -clr)

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])),)


class Adadelta(FusedOptimizer):
    """Implements Adadelta, like ``torch.optim.Adadelta``.

    Args: ``params``, ``lr`` (1.0), ``rho`` (0.9), ``eps`` (1e-6), ``weight_decay`` (0),
    ``foreach`` (ignored), keyword-only ``capturable``/``differentiable`` (False only),
    ``maximize`` (False). State per parameter: ``step``, ``square_avg``, ``acc_delta``.
    """

    _KERNELS = (adadelta_update_, adadelta_update_serial_)
    _STATE_BUFFERS = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_hyper("learning rate", group["lr"])
        check_hyper("rho value", group["rho"], high=1.0)
        check_hyper("epsilon value", group["eps"])
        check_hyper("weight_decay value", group["weight_decay"])
        check_flag("capturable", group.get("capturable", False), (False,))
        check_flag("differentiable", group.get("differentiable", False), (False,))

    def _buffers(self, group: dict) -> list:
        return [("square_avg", 0.0), ("acc_delta", 0.0)]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        return (group["weight_decay"], group["rho"], 1 - group["rho"], group["eps"],
                -group["lr"])

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])),)
