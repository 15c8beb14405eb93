"""Gradual unfreezing (``train.unfreeze``), as fastai's ``fine_tune`` and Lightning's
``BackboneFinetuning``: at the start of epoch k, the listed prefixes start training.

    unfreeze: [{epoch: 3, modules: [layer4], lr_mult: 0.1, warmup_epochs: 1}]

The optimizer holds the parameters of every step from the start, each step's in groups of their
own (``param_groups.py``): until their epoch they have ``requires_grad=False``, so they never get
a gradient and every optimizer skips them (no update, no decay, no state), exactly as if they
joined the optimizer at their epoch. Holding them from the start keeps the groups, their order
and the lr schedule the same for a fresh and a resumed run, so a resume across an unfreezing is
bitwise exact: which steps have happened is a function of the epoch alone.

At its epoch a step sets ``requires_grad=True`` and takes its BatchNorm layers out of the frozen
set (they train in training mode from then on, as under ``model.freeze: none``). With
``warmup_epochs: n`` its groups' lr is the schedule's lr times 1/(n+1), 2/(n+1), ... in its
first n epochs: the factor is put on at the epoch's start and taken off before the scheduler
steps, so the schedule itself never sees it.
"""
from ..config_schema import suggest
from ..errors import TrainerError
from ..freeze import FreezePlan, _under

__all__ = ["UnfreezeSchedule"]


class UnfreezeSchedule:
    """The config's unfreeze steps, checked against the model and its freeze plan."""

    def __init__(self, steps, model, plan):
        self.steps = list(steps)
        self.base_plan = plan
        frozen = set(plan.frozen_params)
        names = [n for n, _ in model.named_parameters()]
        self.step_of = {}   # frozen parameter name -> index of the step that unfreezes it
        for i, step in enumerate(self.steps):
            for prefix in step.modules:
                matched = [n for n in names if _under(n, [prefix])]
                if not matched:
                    modules = [n for n, _ in model.named_modules() if n]
                    close = suggest(prefix, modules + names)
                    hint = f" (did you mean {close!r}?)" if close else \
                        f" (top-level modules: {', '.join(n for n, _ in model.named_children())})"
                    raise TrainerError(f"train.unfreeze[{i}].modules: {prefix!r} names no "
                                       f"module or parameter of the model{hint}")
                pending = [n for n in matched if n in frozen and n not in self.step_of]
                if not pending:
                    raise TrainerError(f"train.unfreeze[{i}].modules: {prefix!r} is not frozen "
                                       f"(model.freeze: {plan.spec!r}): it trains from the start")
                self.step_of.update((n, i) for n in pending)
        self.applied = set()

    def trained(self, model):
        """Names of every parameter that trains at some point of the run."""
        return {n for n, p in model.named_parameters() if p.requires_grad} | set(self.step_of)

    def due(self, epoch):
        """Indices of the steps whose epoch has come (at or before ``epoch``)."""
        return [i for i, s in enumerate(self.steps) if s.epoch <= epoch]

    def plan_at(self, epoch):
        """The freeze plan in force during ``epoch``."""
        prefixes = [p for i in self.due(epoch) for p in self.steps[i].modules]
        done = {n for n, i in self.step_of.items() if self.steps[i].epoch <= epoch}
        base = self.base_plan
        return FreezePlan(spec=base.spec, prefixes=base.prefixes,
                          frozen_params=[n for n in base.frozen_params if n not in done],
                          frozen_bn=[n for n in base.frozen_bn if not _under(n, prefixes)])

    def apply(self, epoch, model):
        """Unfreeze every step due by ``epoch`` not yet applied; the new plan, or None when
        nothing changed."""
        new = [i for i in self.due(epoch) if i not in self.applied]
        if not new:
            return None
        for name, p in model.named_parameters():
            if self.step_of.get(name) in new:
                p.requires_grad_(True)
        self.applied.update(new)
        return self.plan_at(epoch)

    def warmup_factor(self, step, epoch):
        """The lr factor of step ``step``'s groups in ``epoch`` (1 outside its warm-up)."""
        s = self.steps[step]
        k = epoch - s.epoch
        if s.warmup_epochs and 0 <= k < s.warmup_epochs:
            return (k + 1) / (s.warmup_epochs + 1)
        return 1.0

    def describe(self):
        return ", ".join(f"epoch {s.epoch}: {', '.join(s.modules)} (lr x{s.lr_mult:g}"
                         + (f", warm-up {s.warmup_epochs}" if s.warmup_epochs else "") + ")"
                         for s in self.steps)
