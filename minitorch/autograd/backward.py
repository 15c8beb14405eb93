"""``Tensor.backward`` and ``autograd.grad``: argument checks, then one engine run."""
import warnings

import numpy as np

from .engine import run_backward
from .variable import TensorBase

__all__ = ["backward", "grad"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(outputs, grad_outputs, what, make=None):
    """The root gradients as arrays, or (``make`` given: create_graph) as Tensors, a Tensor
    ``grad_outputs`` kept as it is so that its own history is differentiated too."""
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad or out._edge()[0] is None:  # (a no_grad view has no edge)
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn: nothing to differentiate (set requires_grad=True on an "
                               "input, and don't compute it under no_grad)")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"{what} has shape {tuple(out.shape)}: pass gradient= of "
                                   f"that shape")
            ones = np.ones(out.shape, out._data.dtype)
            grads.append(ones if make is None else make(ones))
            continue
        tensor = g if isinstance(g, TensorBase) else None
        g = g._data if tensor is not None else np.asarray(g, dtype=out._data.dtype)
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: gradient has shape {g.shape} but the output "
                               f"has shape {tuple(out.shape)}")
        if make is None:
            grads.append(g.astype(out._data.dtype, copy=False))
        elif tensor is not None:
            grads.append(tensor if g.dtype == out._data.dtype else tensor.type(out._data.dtype))
        else:
            grads.append(make(g.astype(out._data.dtype, copy=False)))
    return grads


def _maker(create_graph, outputs):
    """For create_graph: how the engine makes a Tensor of an array (the outputs' class)."""
    return outputs[0]._new if create_graph else None


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (PyTorch's autograd.backward).

    ``create_graph=True`` records the backward pass, so the ``.grad`` it produces can be
    differentiated again; ``retain_graph`` defaults to ``create_graph``, as in PyTorch."""
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = _as_list(inputs)
        found = grad(outputs, inputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                     allow_unused=True)
        for t, g in zip(inputs, found):
            if g is not None:
                t.grad = g if t.grad is None else (
                    t.grad + g if create_graph else t._new(t.grad._data + g._data))
        return
    make = _maker(create_graph, outputs)
    roots_grads = _root_grads(outputs, grads, "the tensor", make)
    run_backward([o._edge() for o in outputs], roots_grads, retain_graph=bool(retain_graph),
                 create_graph=make)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    With ``create_graph=True`` the gradients are recorded in the graph (they have a ``grad_fn``
    where they depend on something that requires grad), so they can be differentiated again:
    Hessian-vector products, gradient penalties. ``retain_graph`` defaults to ``create_graph``.
    ``only_inputs`` is ignored (deprecated in torch, as there); ``materialize_grads=True`` gives
    zeros rather than None for an input the outputs do not use (and implies allow_unused)."""
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    allow_unused = bool(allow_unused or materialize_grads)
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    go = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"input {i} of autograd.grad does not require grad")
    make = _maker(create_graph, outputs)
    found = run_backward([o._edge() for o in outputs], _root_grads(outputs, go, "the output", make),
                         retain_graph=bool(retain_graph), capture=[t._edge() for t in inputs],
                         create_graph=make)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
        if g is None and materialize_grads:
            g = t._new(np.zeros(t.shape, t._data.dtype))
        result.append(None if g is None else _result(t, g, create_graph))
    return tuple(result)


def _result(t, g, create_graph):
    """What ``grad`` returns for input ``t``: a fresh array, or under create_graph the recorded
    Tensor itself (cast to ``t``'s dtype)."""
    if not create_graph:
        return t._new(np.array(g, dtype=t._data.dtype))
    if g._data.dtype != t._data.dtype:
        g = g.type(t._data.dtype)
    return g if g.requires_grad else t._new(np.array(g._data, copy=True))
