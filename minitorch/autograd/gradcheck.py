"""Finite-difference gradient checking in float64 (PyTorch's ``autograd.gradcheck`` and
``gradgradcheck``)."""
import numpy as np

from .backward import grad
from .grad_mode import enable_grad, no_grad
from .variable import TensorBase

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """The analytical and numerical gradients disagree; the message names input and element."""


def _numerical(fn, inputs, i, eps):
    """d(sum of w*outputs)/d(inputs[i]) by central differences, one element at a time."""
    x = inputs[i]._data
    grad = np.zeros_like(x)
    flat = x.reshape(-1)  # a view: inputs are made contiguous by gradcheck
    gflat = grad.reshape(-1)
    for k in range(flat.size):
        orig = flat[k]
        flat[k] = orig + eps
        plus = fn(*inputs)
        flat[k] = orig - eps
        minus = fn(*inputs)
        flat[k] = orig
        gflat[k] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare the gradients autograd computes for ``fn(*inputs)`` with central differences.

    Inputs that require grad must be float64. The output(s) are reduced with fixed random weights
    so one backward checks the whole vector-Jacobian product. Returns True, or raises
    ``GradcheckError`` naming the input and the worst element.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]
    for i in checked:
        if inputs[i]._data.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs "
                             "(finite differences in float32 are too coarse)")
        if not inputs[i]._data.flags.c_contiguous:
            inputs[i]._data = np.ascontiguousarray(inputs[i]._data)
    rng = np.random.default_rng(0)

    def weighted(*args):
        outs = fn(*args)
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        return [o for o in outs if isinstance(o, TensorBase) and o._data.dtype.kind == "f"]

    outs = weighted(*inputs)
    weights = [rng.standard_normal(o.shape) for o in outs]
    total = sum((o * o._new(w)).sum() for o, w in zip(outs, weights))
    # an output with no history has a zero analytical gradient (the differences may disagree)
    found = (grad(total, [inputs[i] for i in checked], allow_unused=True)
             if isinstance(total, TensorBase) and total.requires_grad else [None] * len(checked))
    analytic = {i: (g._data if g is not None else np.zeros_like(inputs[i]._data))
                for i, g in zip(checked, found)}

    def scalar(*args):
        with no_grad():
            return sum(float(np.sum(o._data * w)) for o, w in zip(weighted(*args), weights))

    for i in checked:
        analytical = analytic[i]
        numerical = _numerical(scalar, inputs, i, eps)
        err = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
        if err.size and err.max() > 0:
            k = np.unravel_index(np.argmax(err), err.shape)
            msg = (f"gradcheck failed for input {i} (shape {inputs[i].shape}) at element "
                   f"{tuple(int(j) for j in k)}: analytical {analytical[k]:.8g} vs numerical "
                   f"{numerical[k]:.8g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def _float_outputs(fn, args):
    outs = fn(*args)
    outs = outs if isinstance(outs, (tuple, list)) else (outs,)
    return [o for o in outs if isinstance(o, TensorBase) and o._data.dtype.kind == "f"]


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Check second derivatives: the gradient of ``fn`` (computed with ``create_graph=True``,
    against fixed random ``grad_outputs``) must equal the ordinary backward's, and is itself
    gradchecked by central differences."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = [t for t in inputs if isinstance(t, TensorBase) and t.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        with no_grad():
            grad_outputs = [p._new(rng.standard_normal(p.shape))
                            for p in _float_outputs(fn, inputs)]
    grad_outputs = list(grad_outputs)

    def first_derivative(*args, create_graph=True):
        with enable_grad():  # (gradcheck evaluates it under no_grad for the differences)
            found = grad(_float_outputs(fn, args),
                         [a for a in args if isinstance(a, TensorBase) and a.requires_grad],
                         grad_outputs=grad_outputs, create_graph=create_graph,
                         allow_unused=True)
        return tuple(g for g in found if g is not None)

    plain = first_derivative(*inputs, create_graph=False)
    for i, (p, r) in enumerate(zip(plain, first_derivative(*inputs))):
        if not np.allclose(p._data, r._data, rtol=rtol, atol=atol):
            msg = (f"gradgradcheck: the create_graph=True gradient of input {i} differs from the "
                   "ordinary backward's (backward_graph and backward disagree)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    if not wrt:
        return True
    try:
        return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol,
                         raise_exception=raise_exception)
    except GradcheckError as e:
        raise GradcheckError(f"gradgradcheck (second derivative): {e}") from None
