"""``minitorch.utils``: ``utils.data`` (PyTorch's path of the data package) and developer
utilities (``utils.profile``). Both load on first use, so ``import minitorch`` stays light."""
import importlib

__all__ = ["data", "profile"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minitorch.utils' has no attribute {name!r}")
