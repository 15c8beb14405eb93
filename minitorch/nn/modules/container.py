"""Containers: ``Sequential`` (runs children in order), ``ModuleList`` and ``ModuleDict``.

Children are named '0', '1', ... so state-dict keys look like ``layer1.0.conv1.weight``.
"""
import operator
from collections import OrderedDict

from minitorch.nn.module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class _IndexedModules(Module):
    """Shared integer indexing over ``_modules`` for Sequential and ModuleList."""

    def _index(self, idx) -> int:
        """The position for an integer index (negative counts from the end); IndexError if out."""
        idx = operator.index(idx)
        size = len(self._modules)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length "
                             f"{size}")
        return idx % size

    def _key(self, idx) -> str:
        return list(self._modules)[self._index(idx)]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module) -> None:
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx) -> None:
        if isinstance(idx, slice):
            for key in list(self._modules)[idx]:
                del self._modules[key]
        else:
            del self._modules[self._key(idx)]
        # Renumber so the names stay '0', '1', ... like PyTorch after a deletion.
        modules = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, item in enumerate(modules):
            self.add_module(str(i), item)


class Sequential(_IndexedModules):
    """Runs its children in order: ``Sequential(a, b)(x) == b(a(x))``.

    Built from modules (named '0', '1', ...) or from one OrderedDict of name -> module.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __iadd__(self, modules):
        return self.extend(modules)


class ModuleDict(Module):
    """An ordered dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str):
        return self._modules[key]

    def __setitem__(self, key: str, module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module
