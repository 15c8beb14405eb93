"""minitorch.train: the config schema, the trainer loop, metrics, plots and the finetuning CLI."""

__all__ = []
