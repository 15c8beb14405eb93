"""The ``higher`` family of random programs: ``autograd.grad(..., create_graph=True)`` of a
weighted sum of some tensor with respect to leaves, whose result joins the program's tensors (so
later lines compute with it and the final ``loss.backward()`` differentiates it again), and now
and then ``backward(create_graph=True)`` or a second ``grad`` straight away."""
from .programs import _literal

__all__ = ["higher_line"]


def _flag(t, name):
    """A tensor flag, False where torch refuses to read it (a stale no_grad view)."""
    try:
        return getattr(t, name)
    except RuntimeError:
        return False


_NORMS = ("NativeLayerNorm", "NativeBatchNorm", "NativeGroupNorm")


def _norm_orders(t):
    """(whether ``t``'s torch graph has a layer/batch/group norm, whether it has one's
    gradient): torch's third derivative through these norms is off (its double backward's
    graph is not exactly differentiable: 2e-3 in float64 against its own finite differences,
    tests/autograd/test_higher_order_nn_flags.py), so the family differentiates neither a
    norm's gradient nor a norm's Hessian-vector product again."""
    try:
        root = t.grad_fn
    except RuntimeError:   # a no_grad view whose base changed in place: torch refuses to tell
        return True, True
    seen, stack, norm, grad = set(), [root], False, False
    while stack and len(seen) < 5000:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        name = node.name()
        if name.startswith(_NORMS):
            norm = True
            grad = grad or "BackwardBackward" in name
        stack.extend(n for n, _ in node.next_functions)
    return norm, grad


def _weighted(gen, name):
    t = gen.ns[name]
    return (f"({name} * lib.tensor({_literal(gen.rng, tuple(t.shape), 'float32')}, "
            f"dtype={name}.dtype)).sum()")


def higher_line(gen):
    """One statement (without a target name) of the family, or None when nothing fits."""
    rng = gen.rng
    outs = [k for k, v in gen.tensors(lambda v: _flag(v, "requires_grad")
                                       and v.dtype.is_floating_point
                                       and not _norm_orders(v)[1])]
    leaves = [k for k, v in gen.tensors(lambda v: _flag(v, "requires_grad")
                                         and _flag(v, "is_leaf"))]
    if not outs or not leaves:
        return None
    y = rng.choice(outs)
    wrt = rng.sample(leaves, min(len(leaves), rng.choice([1, 1, 2])))
    r = rng.random()
    if r < 0.15:
        return f"{_weighted(gen, y)}.backward(create_graph=True)"
    inputs = ", ".join(wrt)
    if r < 0.3:  # grad_outputs instead of a weighted sum (sometimes one with history)
        go = rng.choice([f"lib.ones_like({y})", f"{y} * 1.5", f"{y}.detach() + 0.5"])
        return (f"lib.autograd.grad({y}, [{inputs}], grad_outputs={go}, create_graph=True, "
                f"allow_unused=True)[0]")
    expr = (f"lib.autograd.grad({_weighted(gen, y)}, [{inputs}], create_graph=True, "
            f"allow_unused=True)[0]")
    if r < 0.45 and not _norm_orders(gen.ns[y])[0]:  # a Hessian-vector product at once
        return (f"lib.autograd.grad(({expr} * {expr}).sum(), [{inputs}], allow_unused=True, "
                "create_graph=True)[0]")
    return expr
