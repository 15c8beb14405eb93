"""``autograd.functional``: PyTorch's jacobian, hessian, vjp, hvp and vhp over ``autograd.grad``.

Reverse mode, one backward per output element for a Jacobian (PyTorch's default strategy); the
Hessian is the Jacobian of the gradient, taken with ``create_graph=True``. Results are detached
(``create_graph=True`` for the results themselves is refused: stacking them differentiably would
need the Tensor layer above this one).
"""
import numpy as np

from .backward import grad
from .grad_mode import enable_grad
from .variable import TensorBase

__all__ = ["jacobian", "hessian", "vjp", "hvp", "vhp"]


def _tuple(x, what):
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, TensorBase):
            raise TypeError(f"The {what} given to the function must be Tensors, got "
                            f"{type(t).__name__} at position {i}")
    return xs, is_tuple


def _leaves(inputs):
    """Fresh leaves that require grad, sharing the inputs' values (as PyTorch's _grad_preprocess)."""
    return tuple(t.detach().requires_grad_(True) for t in inputs)


def _no_create_graph(create_graph, fn):
    if create_graph:
        raise NotImplementedError(f"autograd.functional.{fn}: create_graph=True is not supported "
                                  "in minitorch (use autograd.grad(..., create_graph=True))")


def _rows(out, xs, create_graph):
    """d out.flatten()[k] / d xs for every k: one list of arrays (or None) per input."""
    flat = out.reshape(-1)
    rows = [[] for _ in xs]
    n = flat.shape[0]
    for k in range(n):
        onehot = np.zeros(n, flat._data.dtype)
        onehot[k] = 1
        found = grad(flat, xs, grad_outputs=out._new(onehot), retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
        for r, g in zip(rows, found):
            r.append(g)
    return rows


def _stack(row, out_shape, x):
    shape = tuple(out_shape) + tuple(x.shape)
    arrays = [np.zeros(x.shape, x._data.dtype) if g is None else g._data for g in row]
    data = np.stack(arrays).reshape(shape) if arrays else np.zeros(shape, x._data.dtype)
    return x._new(np.ascontiguousarray(data))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: d out / d in with shape out.shape + in.shape, as
    a Tensor, a tuple over inputs, or (tuple outputs) a tuple over outputs of those."""
    _no_create_graph(create_graph, "jacobian")
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: strategy {strategy!r} is not supported (reverse-mode only)")
    xs, in_tuple = _tuple(inputs, "inputs")
    with enable_grad():
        xs = _leaves(xs)
        outs, out_tuple = _tuple(func(*xs), "outputs")
        result = []
        for out in outs:
            if not out.requires_grad:
                if strict:
                    raise RuntimeError("jacobian: an output of the function is independent of "
                                       "the inputs (strict=True)")
                rows = [[None] * out._data.size for _ in xs]
            else:
                rows = _rows(out, xs, create_graph=False)
            per_input = tuple(_stack(r, out.shape, x) for r, x in zip(rows, xs))
            result.append(per_input if in_tuple else per_input[0])
    return tuple(result) if out_tuple else result[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar ``func`` at ``inputs``: shape in.shape + in.shape, or a tuple
    of tuples of blocks for several inputs, as PyTorch's."""
    _no_create_graph(create_graph, "hessian")
    xs, in_tuple = _tuple(inputs, "inputs")

    def gradient(*leaves):
        out = func(*leaves)
        if not isinstance(out, TensorBase) or out._data.size != 1:
            raise RuntimeError("hessian: the function given must return a single Tensor with "
                               "one element")
        found = grad(out.reshape(()), leaves, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else leaf._new(np.zeros(leaf.shape, leaf._data.dtype))
                     for g, leaf in zip(found, leaves))

    jac = jacobian(gradient, xs if in_tuple else xs[0])
    if not in_tuple:
        return jac[0]
    return jac


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``, as PyTorch's."""
    xs, in_tuple = _tuple(inputs, "inputs")
    with enable_grad():
        xs = _leaves(xs)
        out = func(*xs)
        outs, out_tuple = _tuple(out, "outputs")
        vs = _tuple(v, "v")[0] if v is not None else None
        found = grad(outs, xs, grad_outputs=vs, create_graph=create_graph, allow_unused=True)
    found = tuple(g if g is not None else x._new(np.zeros(x.shape, x._data.dtype))
                  for g, x in zip(found, xs))
    res = found if create_graph else tuple(g.detach() for g in found)
    detached = tuple(o.detach() for o in outs)
    return (detached if out_tuple else detached[0]), (res if in_tuple else res[0])


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``: a second backward, no full Hessian."""
    xs, in_tuple = _tuple(inputs, "inputs")
    vs = _tuple(v, "v")[0]
    with enable_grad():
        xs = _leaves(xs)
        out = func(*xs)
        if not isinstance(out, TensorBase) or out._data.size != 1:
            raise RuntimeError("vhp: the function given must return a single Tensor with one "
                               "element")
        gs = grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        used = [(g, w) for g, w in zip(gs, vs) if g is not None and g.requires_grad]
        found = (None,) * len(xs)
        if used:
            total = sum((g * w).sum() for g, w in used)
            found = grad(total, xs, create_graph=create_graph, allow_unused=True)
    res = tuple((g if create_graph else g.detach()) if g is not None
                else x._new(np.zeros(x.shape, x._data.dtype)) for g, x in zip(found, xs))
    return out.detach(), (res if in_tuple else res[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``; the Hessian is symmetric, so this is ``vhp``."""
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
