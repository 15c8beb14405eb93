"""``Rprop`` and ``ASGD``, step for step ``torch.optim``'s (the single-tensor path), each
parameter updated by one fused kernel (``minitorch/kernels/rprop.py``)."""
import numbers

import numpy as np

from minitorch.kernels.rprop import (asgd_update_, asgd_update_serial_, rprop_update_,
                                     rprop_update_serial_)

from ._fused import FusedOptimizer, check_flag, check_hyper, scalar_state

__all__ = ["Rprop", "ASGD"]


def _pair(name, value):
    """A pair of numbers as a tuple (lists come back from YAML and HDF5)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"Invalid {name}: {value!r} (expected a pair)")
    values = tuple(v.item() if hasattr(v, "item") else v for v in value)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
        raise ValueError(f"Invalid {name}: {value!r} (expected two numbers)")
    return values


class Rprop(FusedOptimizer):
    """Implements the resilient backpropagation algorithm, like ``torch.optim.Rprop``.

    Args: ``params``, ``lr`` (1e-2: every element's first step size), ``etas`` ((0.5, 1.2): the
    step size's factors when the gradient's sign flips / holds), ``step_sizes`` ((1e-6, 50): the
    step size's bounds), keyword-only ``foreach`` (ignored), ``maximize`` (False);
    ``capturable`` and ``differentiable`` False only.
    State per parameter: ``step``, ``prev``, ``step_size``.
    """

    _KERNELS = (rprop_update_, rprop_update_serial_)
    _STATE_BUFFERS = ("prev", "step_size")

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_hyper("learning rate", group["lr"])
        etaminus, etaplus = group["etas"] = _pair("etas", group["etas"])
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Invalid eta values: {etaminus}, {etaplus}")
        group["step_sizes"] = _pair("step_sizes", group["step_sizes"])
        check_flag("capturable", group.get("capturable", False), (False,))
        check_flag("differentiable", group.get("differentiable", False), (False,))

    def _buffers(self, group: dict) -> list:
        return [("prev", 0.0), ("step_size", group["lr"])]

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        return (*group["etas"], *group["step_sizes"])

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])),)


class ASGD(FusedOptimizer):
    """Implements averaged stochastic gradient descent, like ``torch.optim.ASGD``.

    Args: ``params``, ``lr`` (1e-2), ``lambd`` (1e-4: decay term), ``alpha`` (0.75: power for
    the eta update), ``t0`` (1e6: the step averaging starts at), ``weight_decay`` (0),
    ``foreach`` (ignored), ``maximize`` (False); ``capturable`` and ``differentiable`` False
    only. State per parameter: ``step``, ``eta``, ``mu`` (0-d float32), ``ax`` (the average).
    """

    _KERNELS = (asgd_update_, asgd_update_serial_)
    _STATE_BUFFERS = ("ax",)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        check_hyper("learning rate", group["lr"])
        check_hyper("weight_decay value", group["weight_decay"])
        check_flag("capturable", group.get("capturable", False), (False,))
        check_flag("differentiable", group.get("differentiable", False), (False,))

    def _buffers(self, group: dict) -> list:
        return [("ax", 0.0)]

    def _init_state(self, p, group: dict) -> dict:
        state = super()._init_state(p, group)
        state["eta"] = scalar_state({}, "eta", group["lr"])
        state["mu"] = scalar_state({}, "mu", 1.0)
        return {key: state[key] for key in ("step", "eta", "mu", "ax")}

    def _state_kernel_args(self, state: dict, group: dict, step: float, cast) -> tuple:
        eta = float(scalar_state(state, "eta", group["lr"])._data)
        mu = float(scalar_state(state, "mu", 1.0)._data)
        return (group["weight_decay"], 1 - group["lambd"] * eta, -eta, mu)

    def _after_update_(self, state: dict, group: dict, step: float) -> None:
        lr, lambd = group["lr"], group["lambd"]
        for name, value in (("eta", lr / ((1 + lambd * lr * step) ** group["alpha"])),
                            ("mu", 1 / max(1, step - group["t0"]))):
            tensor = state[name]
            tensor._data[...] = np.float32(value)
            tensor._bump_version()

    def _flags(self, group: dict) -> tuple:
        return (int(bool(group["maximize"])),)
