"""minitorch.train: the config schema, the trainer loop, metrics, plots, the finetuning CLI, and
the classifier file reader behind predict, evaluate and export."""
from .classifier import Classifier, EvalTransform, load_classifier

__all__ = ["load_classifier", "Classifier", "EvalTransform"]
