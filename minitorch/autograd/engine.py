"""The backward engine: an iterative walk of the graph in dependency order.

No recursion (a 10,000-op chain is fine): one pass counts, for every node reachable from the roots,
how many edges lead into it; a second pass runs a node once all of its gradients have arrived,
summing the gradients of a node's outputs before calling it. Of the ready nodes the newest runs
first (a leaf's AccumulateGrad at once), as in PyTorch: hooks fire, and leaves get their grads
before a later node raises, in the same order as there. Each call keeps its own state, so
backward passes in several threads over independent graphs do not interfere; the only shared
write, accumulation into a leaf's ``.grad``, is locked in ``AccumulateGrad``.

With ``create_graph`` the same walk carries Tensors instead of arrays, under grad mode, and each
node runs its differentiable ``apply_graph``: the gradients are themselves recorded, so they can
be differentiated again (higher-order gradients). The ordinary path never builds a Tensor.
"""
import heapq
import itertools

import numpy as np

from .function import AccumulateGrad
from .grad_mode import enable_grad
from .variable import TensorBase

__all__ = ["run_backward"]


def _dependencies(roots):
    """For each node reachable from ``roots``, the number of edges that point at it."""
    deps = {}
    seen = set()
    stack = [n for n in roots if n is not None]
    for n in stack:
        seen.add(n)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def _needed(seen, targets):
    """The nodes from which some target node can be reached (only they need to run)."""
    parents = {}
    for node in seen:
        for nxt, _ in node.next_functions:
            if nxt is not None:
                parents.setdefault(nxt, []).append(node)
    needed = set(targets)
    stack = list(targets)
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def _add(buffers, node, nr, grad, n_outputs):
    slot = buffers.get(node)
    if slot is None:
        slot = buffers[node] = [None] * n_outputs
    # Out of place: an incoming gradient may be a view another node still owns.
    slot[nr] = grad if slot[nr] is None else slot[nr] + grad


def _n_outputs(node):
    meta = getattr(node, "_outputs_meta", None)
    return len(meta) if meta is not None else 1


def _run_pre_hooks(node, grads, make):
    # a hook gets what flows (arrays, or Tensors under create_graph) and may return either
    for nr, hooks in node._pre_hooks.items():
        if grads[nr] is None:
            continue
        for hook in hooks:
            res = hook(grads[nr])
            if res is None:
                continue
            if make is None:
                grads[nr] = res._data if isinstance(res, TensorBase) else np.asarray(res)
            else:
                grads[nr] = res if isinstance(res, TensorBase) else make(np.asarray(res))


def run_backward(roots, root_grads, retain_graph=False, capture=None, create_graph=None):
    """Backpropagate ``root_grads`` from the edges ``roots`` ((node, output_nr) pairs).

    Without ``capture``, gradients are accumulated into leaves' ``.grad``. With ``capture`` (a
    list of (node, output_nr) edges, for ``autograd.grad``), the total gradient reaching each edge
    is returned instead, leaves are left alone, and only nodes leading to a captured edge run.
    ``create_graph``, when given, is the function that makes a Tensor of an array: the root
    gradients are then Tensors and the backward pass is recorded (see the module docstring).
    """
    if create_graph is not None:
        with enable_grad():
            return _run(roots, root_grads, retain_graph, capture, create_graph)
    return _run(roots, root_grads, retain_graph, capture, None)


def _run(roots, root_grads, retain_graph, capture, make):
    root_nodes = [node for node, _ in roots]
    deps, seen = _dependencies(root_nodes)
    buffers = {}
    for (node, nr), g in zip(roots, root_grads):
        if node is not None:
            _add(buffers, node, nr, g, _n_outputs(node))
    needed = None
    captured = None
    if capture is not None:
        needed = _needed(seen, [n for n, _ in capture if n is not None])
        captured = {}
    ready = _Ready()
    for n in dict.fromkeys(root_nodes):
        if n is not None and deps.get(n, 0) == 0:
            ready.append(n)
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None)
        if grads is None:
            # nothing reached it (every path in returned None: torch's undefined gradient):
            # it passes nothing on, rather than zeros, so a gradient not depending on an input
            # comes back None for it, as torch's does
            _release(node, deps, ready)
            continue
        grads = grads or [None] * _n_outputs(node)
        if node._pre_hooks:
            _run_pre_hooks(node, grads, make)
        if captured is not None:
            for nr, g in enumerate(grads):
                captured[(node, nr)] = g
            if node not in needed or isinstance(node, AccumulateGrad):
                _release(node, deps, ready)
                continue
        if make is None:
            in_grads = node.apply(grads, retain_graph)
        else:
            in_grads = node.apply_graph(grads, retain_graph, make)
        for (nxt, nr), g in zip(node.next_functions, in_grads):
            if nxt is not None and g is not None:
                _add(buffers, nxt, nr, g, _n_outputs(nxt))
        _release(node, deps, ready)
    if captured is not None:
        return [captured.get(edge) for edge in capture]
    return None


class _Ready:
    """The nodes whose gradients are complete, newest (highest sequence number) first."""

    def __init__(self):
        self._heap = []
        self._tie = itertools.count()  # equal sequence numbers: first queued first

    def __bool__(self):
        return bool(self._heap)

    def append(self, node):
        heapq.heappush(self._heap, (-node._sequence_nr, next(self._tie), node))

    def pop(self):
        return heapq.heappop(self._heap)[2]


def _release(node, deps, ready):
    """Count down the dependencies of ``node``'s children and queue those now complete."""
    for nxt, _ in node.next_functions:
        if nxt is None:
            continue
        deps[nxt] -= 1
        if deps[nxt] == 0:
            ready.append(nxt)
