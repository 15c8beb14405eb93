"""Optimizers and learning-rate schedules: ``from minitorch import optim``; ``optim.SGD(...)``,
``optim.lr_scheduler.CosineAnnealingLR(...)``, with PyTorch's names and numbers."""
from . import lr_scheduler
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "lr_scheduler"]
