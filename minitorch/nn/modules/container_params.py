"""``ParameterList`` and ``ParameterDict``: parameters held in a list or a dict, registered.

As in PyTorch, a plain Tensor put in one becomes a ``Parameter`` (requiring grad), entries are
named '0', '1', ... or by their keys in ``named_parameters`` and the state dict, and the repr
lists each entry's dtype and size.
"""
import operator

from minitorch.autograd.function import legacy_type_name
from minitorch.nn.module import Module
from minitorch.nn.parameter import Parameter
from minitorch.tensor import Tensor

__all__ = ["ParameterList", "ParameterDict"]



def _as_parameter(value):
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(value, legacy):
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    dtype = str(value.dtype).rsplit(".", 1)[-1]
    kind = f"minitorch.{legacy_type_name(dtype)}" if legacy else f"minitorch.{dtype}"
    size = "x".join(str(n) for n in value.shape)
    head = "Parameter containing: " if isinstance(value, Parameter) else ""
    return f"{head}[{kind} of size {size}]"


class ParameterList(Module):
    """A list of parameters (``ParameterList([w1, w2])``), each registered under its index."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _index(self, idx) -> int:
        idx = operator.index(idx)
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range")
        return idx % self._size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(self._size)[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx, value) -> None:
        name = str(self._index(idx))
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(name, value) if name in self._parameters else \
                setattr(self, name, value)
        else:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, value)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self._size += 1
        value = _as_parameter(value)
        name = str(self._size - 1)
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        else:
            object.__setattr__(self, name, value)
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"  ({i}): {_describe(v, legacy=False)}" for i, v in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict of parameters (``ParameterDict({'w': w})``), registered under their keys."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            setattr(self, key, value)
        else:
            self._parameters.pop(key, None)
            object.__setattr__(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        if key in self._parameters:
            del self._parameters[key]
        else:
            object.__delattr__(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self):
        return ParameterDict(self.items())

    def update(self, values) -> None:
        pairs = values.items() if hasattr(values, "items") else values
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(v, legacy=True)}" for k, v in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
