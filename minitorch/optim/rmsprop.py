"""``RMSprop``, step for step ``torch.optim.RMSprop`` (single-tensor path): a running average
of squared gradients (``alpha``), optionally centred by the running average of gradients, with
optional momentum on the normalised step."""
from minitorch.kernels.rmsprop import rmsprop_update_, rmsprop_update_serial_

from ._fused import FusedOptimizer, check_flag, check_hyper

__all__ = ["RMSprop"]


class RMSprop(FusedOptimizer):
    """Implements RMSprop, like ``torch.optim.RMSprop``.

    Args: ``params``, ``lr`` (1e-2), ``alpha`` (0.99), ``eps`` (1e-8), ``weight_decay`` (0),
    ``momentum`` (0), ``centered`` (False), keyword-only ``capturable``/``differentiable`` (False
    only), ``foreach`` (ignored), ``maximize`` (False).
    State per parameter: ``step``, ``square_avg`` (and ``momentum_buffer`` when momentum > 0,
    ``grad_avg`` when centered).
    """

    _KERNELS = (rmsprop_update_, rmsprop_update_serial_)
    _STATE_BUFFERS = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_hyper("learning rate", group["lr"])
        check_hyper("epsilon value", group["eps"])
        check_hyper("momentum value", group["momentum"])
        check_hyper("weight_decay value", group["weight_decay"])
        check_hyper("alpha value", group["alpha"])
        check_flag("capturable", group.get("capturable", False), (False,))
        check_flag("differentiable", group.get("differentiable", False), (False,))

    def _buffers(self, group: dict) -> list:
        return [("square_avg", 0.0), ("grad_avg" if group["centered"] else None, 0.0),
                ("momentum_buffer" if group["momentum"] > 0 else None, 0.0)]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        one_minus_alpha = cast(1 - group["alpha"])  # lerp's weight for grad_avg
        return (group["weight_decay"], group["alpha"], one_minus_alpha,
                cast(1) - one_minus_alpha, group["eps"], group["momentum"], -group["lr"])

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["centered"])), int(group["momentum"] > 0),
                int(bool(group["maximize"])))
