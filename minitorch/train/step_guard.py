"""Between two training steps: has the loss gone non-finite, or did a signal ask to stop?

The trainer calls ``StepGuard.check`` after each forward pass (before backward, so a NaN loss
never reaches the weights) and after each epoch's files are written. Under data parallelism the
ranks first agree (one all-reduce of two integers), so every rank stops at the same step with
the same error. The messages say where the run stopped and which checkpoint is the last whole
one.
"""
import numpy as np

from minitorch import distributed as dist

from .errors import NonFiniteLossError
from .signals import RunInterrupted

__all__ = ["StepGuard"]


class StepGuard:
    """``stops``: the run's ``StopRequests``; ``last_path``: its last.h5; ``saved_epoch``: the
    epoch that file holds (None before the first save), kept up to date by the trainer."""

    def __init__(self, stops, world, last_path):
        self.stops, self.world, self.last_path = stops, world, last_path
        self.saved_epoch = None

    def check(self, finite, epoch, step=None, steps=None, lr=None):
        """Raise ``NonFiniteLossError`` or ``RunInterrupted`` if any rank has a reason to."""
        signum, bad = self.stops.signum or 0, 0 if finite else 1
        if self.world > 1:
            flags = np.array([signum, bad], dtype=np.int64)
            dist.all_reduce_([flags], op="max")
            signum, bad = int(flags[0]), int(flags[1])
        if bad:
            raise NonFiniteLossError(self.nonfinite_message("training", epoch, step, steps, lr))
        if signum:
            raise RunInterrupted(signum, f"stopped in {_where(epoch, step, steps)}; "
                                         f"{self.last_good('continue with --resume auto')}")

    def last_good(self, then=None):
        if self.saved_epoch is None:
            return "no checkpoint was written yet"
        text = f"{self.last_path} (epoch {self.saved_epoch}) is the last whole checkpoint"
        return f"{text}: {then}" if then else text

    def nonfinite_message(self, which, epoch, step, steps, lr):
        return (f"the {which} loss is not finite (NaN or Inf) in {_where(epoch, step, steps)}: "
                f"the run stops; {self.last_good()}; try a lower train.optimizer.lr (now "
                f"{lr:.3g}), less momentum or weight_decay, or check the data for NaN/Inf "
                f"values")


def _where(epoch, step, steps):
    return f"epoch {epoch}" if step is None else f"epoch {epoch}, step {step + 1}/{steps}"
