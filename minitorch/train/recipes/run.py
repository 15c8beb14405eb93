"""``Recipes``: the recipes of one run behind the trainer's hook points.

    recipes = Recipes(config, model, plan)            # checks the prefixes against the model
    optimizer = build_optimizer(config, recipes.param_groups(model))
    recipes.resume(history)                           # a resumed run: replay the history
    plan = recipes.epoch_start(epoch, model, optimizer)   # a new FreezePlan, or None
    stop = recipes.epoch_end(epoch, record, optimizer)    # before the scheduler steps
"""
from .early_stop import EarlyStopping
from .param_groups import build_param_groups
from .unfreeze import UnfreezeSchedule

__all__ = ["Recipes"]


class Recipes:
    """Gradual unfreezing, per-layer lrs and early stopping for one run."""

    def __init__(self, config, model, plan):
        self.config = config
        self.unfreeze = UnfreezeSchedule(config.train.unfreeze, model, plan)
        self.early = EarlyStopping(config.train.early_stopping)
        self._scheduled = None   # the groups' lrs before this epoch's warm-up factors

    def param_groups(self, model):
        """The optimizer's param groups: every parameter that trains at some point."""
        return build_param_groups(model, self.config, self.unfreeze.trained(model),
                                  self.unfreeze.step_of)

    def pending(self):
        """Names of the parameters the optimizer holds that have not been unfrozen yet."""
        return [n for n, i in self.unfreeze.step_of.items() if i not in self.unfreeze.applied]

    def resume(self, history):
        """A resumed run: True when its history already stopped early."""
        return self.early.replay(history)

    @property
    def stopped(self):
        return self.early.stopped_epoch is not None

    def epoch_start(self, epoch, model, optimizer):
        """Unfreeze what is due and put this epoch's warm-up factors on the lrs; returns the
        new freeze plan when something was unfrozen, else None."""
        plan = self.unfreeze.apply(epoch, model)
        self._scheduled = [g["lr"] for g in optimizer.param_groups]
        for group in optimizer.param_groups:
            step = group.get("unfreeze_step", -1)
            factor = self.unfreeze.warmup_factor(step, epoch) if step >= 0 else 1.0
            if factor != 1.0:
                group["lr"] = group["lr"] * factor
        return plan

    def epoch_end(self, epoch, record, optimizer):
        """Take the warm-up factors off again (the scheduler steps from its own lrs, and the
        checkpoint holds them); True when early stopping ends the run after this epoch."""
        if self._scheduled is not None:
            for group, lr in zip(optimizer.param_groups, self._scheduled):
                group["lr"] = lr
            self._scheduled = None
        return self.early.update(record)

    def drop_warmup(self):
        """Forget this epoch's saved lrs (the LR finder puts the optimizer's back itself)."""
        self._scheduled = None

    def summary_lines(self):
        lines = []
        if self.unfreeze.steps:
            lines.append(f"unfreeze: {self.unfreeze.describe()}")
        if self.early.enabled:
            lines.append(f"early stopping: {self.early.describe()}")
        return lines
