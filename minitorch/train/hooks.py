"""The trainer's hooks, where the finetuning recipes (issue 14, ``recipes/``) act.

They run at three points: ``_on_run_start`` (the linear-probe head), ``_on_epoch_start``
(unfreezing, warm-up lrs, then the feature cache takes the epoch's frozen prefix) and
``_on_epoch_end`` (after validation, before the scheduler steps: warm-up lrs off, early
stopping). The recipes' state is a function of the epoch and the metrics history, so a resume
needs nothing more in the checkpoint. ``Trainer`` (trainer.py) inherits them.
"""
from .feature_cache import frozen_prefix
from .recipes.linear_probe import fit_probe_head

__all__ = ["RecipeHooks"]


class RecipeHooks:
    """The ``Trainer``'s hooks (see the module docstring)."""

    def _on_run_start(self):
        """Hook, before the first epoch of a fresh run: the linear-probe head of LP-FT."""
        if self.epoch == 0 and self.config.train.head_init == "linear_probe":
            self._say(fit_probe_head(self))

    def _on_epoch_start(self, epoch):
        """Hook, first thing of every epoch: unfreeze what the schedule says
        (``recipes/unfreeze.py``), then the feature cache takes the epoch's frozen prefix from
        ``requires_grad`` (it shrinks when the prefix does)."""
        plan = self.recipes.epoch_start(epoch, self.model, self.optimizer)
        if plan is not None:
            self.plan = plan
            self.trainable = [p for p in self.model.parameters() if p.requires_grad]
            self._say(f"epoch {epoch}: unfreezing; {len(self.trainable)} tensors train now")
        if self.feature_cache is not None:
            self.feature_cache.start_epoch(epoch, frozen_prefix(self.model, self.plan.frozen_bn))

    def _on_epoch_end(self, epoch, record):
        """Hook, after validation and before the scheduler steps (the warm-up factors come off
        here): early stopping, and the cache's file synced."""
        self.recipes.epoch_end(epoch, record, self.optimizer)
        if self.feature_cache is not None:
            self.feature_cache.end_epoch()
