"""Graph nodes: ``Node`` (what ``grad_fn`` is) and ``AccumulateGrad``, the sink of a leaf."""
import itertools
import sys
import threading

import numpy as np

__all__ = ["Node", "AccumulateGrad", "RemovableHandle"]


class RemovableHandle:
    """What ``Tensor.register_hook`` returns: ``remove()`` unregisters the hook (a second call
    does nothing), as torch's ``RemovableHandle``; also a context manager that removes on exit."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook is not None:
            # by identity: the same function registered twice is two registrations
            for i, h in enumerate(self._hooks):
                if h is self._hook:
                    del self._hooks[i]
                    break
            self._hook = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A node of the backward graph. ``next_functions`` holds one ``(node, output_nr)`` edge per
    input of the forward op, ``(None, 0)`` for an input that needs no gradient."""

    _reserved = ("next_functions", "_pre_hooks", "_sequence_nr")

    def __init__(self):
        self.next_functions = ()
        self._pre_hooks = None  # {output_nr: [hook, ...]}, filled by Tensor.register_hook
        # creation order: the engine runs the newest ready node first, as PyTorch's (so which
        # leaves have their grad when a later node raises, and hook order, match torch)
        self._sequence_nr = next(_SEQUENCE)

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def register_prehook(self, output_nr: int, hook) -> "RemovableHandle":
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def apply(self, grads, retain_graph: bool):
        raise NotImplementedError

    def apply_graph(self, grads, retain_graph: bool, make):
        """``apply`` for ``create_graph=True``: Tensors in, recorded Tensors out."""
        raise RuntimeError(f"{self.name()} does not support create_graph=True (double backward)")


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the incoming gradient into ``variable.grad``."""

    _lock = threading.Lock()  # two threads' backward passes may hit the same leaf at once

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self._sequence_nr = sys.maxsize  # PyTorch: a leaf's sink runs as soon as it is ready

    def apply(self, grads, retain_graph):
        (grad,) = grads
        var = self.variable
        with AccumulateGrad._lock:
            if var.grad is None:
                var.grad = var._new(_owned(grad, var._data.dtype))
            else:
                # In place, so a grad held by the optimizer stays the same object.
                np.add(var.grad._data, grad, out=var.grad._data, casting="unsafe")
                var.grad._bump_version()
        return ()

    def apply_graph(self, grads, retain_graph, make):
        # PyTorch in grad mode: the first gradient is stored as a copy that stays in the graph,
        # later ones are added out of place (``grad + new``), so ``.grad`` has a grad_fn
        (grad,) = grads
        var = self.variable
        with AccumulateGrad._lock:
            if var.grad is None:
                var.grad = grad.clone() if grad.requires_grad else make(
                    _owned(grad._data, var._data.dtype))
            else:
                var.grad = var.grad + grad
        return ()


_SEQUENCE = itertools.count()  # next() on it is atomic under the GIL


def _owned(a: np.ndarray, dtype) -> np.ndarray:
    """A writeable array of ``dtype`` that nothing else references (broadcast views are not)."""
    if a.dtype == dtype and a.flags.writeable and a.flags.c_contiguous and a.base is None:
        return a
    return np.array(a, dtype=dtype, order="C", copy=True)
