"""``Tensor.backward`` and ``autograd.grad``: argument checks, then one engine run."""
import numpy as np

from .engine import run_backward
from .variable import TensorBase

__all__ = ["backward", "grad"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(outputs, grad_outputs, what):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn: nothing to differentiate (set requires_grad=True on an "
                               "input, and don't compute it under no_grad)")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"{what} has shape {tuple(out.shape)}: pass gradient= of "
                                   f"that shape")
            grads.append(np.ones(out.shape, out._data.dtype))
            continue
        g = g._data if isinstance(g, TensorBase) else np.asarray(g, dtype=out._data.dtype)
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: gradient has shape {g.shape} but the output "
                               f"has shape {tuple(out.shape)}")
        grads.append(g.astype(out._data.dtype, copy=False))
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (PyTorch's autograd.backward)."""
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(outputs)
    roots_grads = _root_grads(outputs, grads, "the tensor")
    if inputs is not None:
        inputs = _as_list(inputs)
        found = grad(outputs, inputs, roots_grads, retain_graph=retain_graph, allow_unused=True)
        for t, g in zip(inputs, found):
            if g is not None:
                t.grad = g if t.grad is None else t._new(t.grad._data + g._data)
        return
    run_backward([o._edge() for o in outputs], roots_grads, retain_graph=bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported")
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    go = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"input {i} of autograd.grad does not require grad")
    found = run_backward([o._edge() for o in outputs], _root_grads(outputs, go, "the output"),
                         retain_graph=bool(retain_graph), capture=[t._edge() for t in inputs])
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
        result.append(None if g is None else t._new(np.array(g, dtype=t._data.dtype)))
    return tuple(result)
