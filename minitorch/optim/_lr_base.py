"""``LRScheduler``: the base of the learning-rate schedules (``lr_scheduler.py`` has them all).

``last_epoch`` counts ``step()`` calls; ``get_lr`` is the recursive form (from the current lrs),
``_get_closed_form_lr`` the closed form used when an epoch is given explicitly.
"""
import numbers
import warnings

from .optimizer import Optimizer

__all__ = ["LRScheduler", "group_lrs", "check_int", "check_real"]


def group_lrs(optimizer) -> list:
    return [group["lr"] for group in optimizer.param_groups]


def check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"invalid {name} {value!r}: must be an integer >= {minimum}")


def check_real(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"invalid {name} {value!r}: must be a number")


class LRScheduler:
    """Base class: subclasses implement ``get_lr`` (the recursive form) and optionally
    ``_get_closed_form_lr``.

    ``last_epoch`` counts ``step()`` calls (-1 before construction, 0 after it); a fresh
    scheduler records each group's starting lr as ``group["initial_lr"]`` and in ``base_lrs``.
    """

    def __init__(self, optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a scheduler with last_epoch={last_epoch}: "
                                   f"load the optimizer state first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step every scheduler takes at construction (epoch -1 -> 0)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        """The lrs for ``self.last_epoch`` (already advanced), computed from the current ones."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The lrs the last ``step()`` set, one per param group."""
        return self._last_lr

    def step(self, epoch=None) -> None:
        """Advance one epoch and set the new lrs. ``epoch`` (deprecated in PyTorch) jumps to that
        epoch using the closed form when the schedule has one."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn("passing an epoch to lr_scheduler.step() is deprecated, like in "
                          "PyTorch; call step() once per epoch instead", UserWarning,
                          stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = group_lrs(self.optimizer)

    def state_dict(self) -> dict:
        """Every attribute but the optimizer (plain numbers and lists: checkpoint friendly)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
