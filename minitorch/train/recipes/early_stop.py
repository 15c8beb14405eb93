"""Early stopping (``train.early_stopping``), as Keras' and Lightning's ``EarlyStopping``.

    early_stopping: {metric: val_acc, patience: 3, min_delta: 0.001}

After each epoch the watched metric counts as an improvement when it beats the best so far by
more than ``min_delta``; after ``patience`` epochs in a row without one the run stops (its last
epoch's checkpoint is ``last.h5``, the best one ``best.h5``). The state (best value, epochs
without improvement) is a function of the metrics history alone, which every checkpoint carries:
a resumed run replays it and stops at the same epoch as an uninterrupted one, with nothing extra
in the checkpoint.
"""
__all__ = ["EarlyStopping"]


class EarlyStopping:
    """The stop rule of one run; ``patience`` None never stops."""

    def __init__(self, config):
        self.metric, self.patience = config.metric, config.patience
        self.min_delta = config.min_delta
        mode = config.mode
        if mode == "auto":
            mode = "max" if self.metric.endswith("_acc") else "min"
        self.mode = mode
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None

    @property
    def enabled(self):
        return self.patience is not None

    def _improves(self, value):
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def update(self, record):
        """Account for one finished epoch's ``record``; True when the run must stop now."""
        if not self.enabled:
            return False
        value = record.get(self.metric)
        if value is not None and self._improves(value):
            self.best, self.best_epoch, self.wait = value, record["epoch"], 0
        else:
            self.wait += 1   # a non-finite (null) metric is no improvement either
        if self.wait >= self.patience:
            self.stopped_epoch = record["epoch"]
        return self.stopped_epoch is not None

    def replay(self, history):
        """The state after ``history`` (a resumed run's records, in order)."""
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None
        for record in history:
            if self.update(record):
                break
        return self.stopped_epoch is not None

    def message(self):
        return (f"early stopping after epoch {self.stopped_epoch}: {self.metric} did not improve "
                f"by more than {self.min_delta:g} for {self.patience} epochs (best "
                f"{self.best:.4f} at epoch {self.best_epoch})")

    def describe(self):
        if not self.enabled:
            return "off"
        return (f"{self.metric} ({self.mode}), patience {self.patience}, min_delta "
                f"{self.min_delta:g}")
