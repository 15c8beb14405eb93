"""Optimizers and learning-rate schedules: ``from minitorch import optim``; ``optim.SGD(...)``,
``optim.AdamW(...)``, ``optim.lr_scheduler.CosineAnnealingLR(...)``, with PyTorch's names and
numbers."""
from . import lr_scheduler
from .adagrad import Adadelta, Adagrad
from .adam import Adam, AdamW
from .adam_variants import Adamax, NAdam, RAdam
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import ASGD, Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "LBFGS", "lr_scheduler"]
