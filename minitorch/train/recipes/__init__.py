"""The finetuning recipes, each a module of its own, called by the trainer at a few named
points (``Recipes``): run start (the linear-probe head), epoch start (unfreezing, warm-up lrs),
epoch end (early stopping), and ``--find-lr`` before a run.
"""
from .early_stop import EarlyStopping
from .param_groups import build_param_groups, describe_groups, layer_depths
from .run import Recipes
from .unfreeze import UnfreezeSchedule

__all__ = ["Recipes", "EarlyStopping", "UnfreezeSchedule", "build_param_groups",
           "describe_groups", "layer_depths"]
