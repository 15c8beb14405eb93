"""The in-place protocol: checks, writing into storage, and rebasing history as PyTorch does.

An in-place op on a tensor writes into its array (so every view and alias sees the change), bumps
the version counter it shares with its base and views, and moves its history on:

- a tensor that is not a view gets the op's node as its new ``grad_fn``;
- for a view, the *base* gets a ``CopySlices`` node: the gradient of the view's region goes through
  the op's node, the rest to the base's old history. The view's own ``grad_fn`` regenerates from
  the base on its next look (see ``variable.py``).

Two ways to run an op in place: ``apply_inplace`` for a Function whose forward writes into its
first input (``add_``, ``relu_``, index_put: no temporary), and ``assign_result`` for any other op,
computed out of place and copied in.
"""
import numpy as np

from .._promotion import can_cast
from .function import (BackwardNode, Node, _NoGradContext, _SavedVersion, connect,
                       saved_versions)
from .grad_mode import is_grad_enabled
from .variable import TensorBase, view_refusal

__all__ = ["CopySlices", "apply_inplace", "assign_result", "check_inplace", "check_writable",
           "check_overlap", "check_result", "recording", "same_layout"]

_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def recording(target, *others) -> bool:
    """Whether an in-place op on ``target`` with ``others`` is recorded for backward."""
    if not is_grad_enabled() or target._data.dtype.kind not in "fc":
        return False  # an integer or bool target is not differentiable: nothing to record
    return target.requires_grad or any(isinstance(o, TensorBase) and o.requires_grad
                                       for o in others)


def check_inplace(target, op) -> None:
    """PyTorch's refusals of a recorded in-place op on ``target``."""
    if target._multi_output is not None:
        raise RuntimeError(f"{op}: " + view_refusal(target._multi_output,
                                                    "is being modified inplace"))
    base = target._base
    if base is None:
        if target._grad_fn is None and target._requires_grad:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        return
    if target._view_no_grad:
        raise RuntimeError(f"{op}: a view was created in no_grad mode and is being modified "
                           "inplace with grad mode enabled. Move both the view and the in-place "
                           "op inside the no_grad block, or clone() the view first.")
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in "
                           "an in-place operation.")


def check_writable(target, op, overlap_ok=False) -> None:
    """Refuse writing into an expanded tensor (several elements share one memory location),
    except for ops that write one value everywhere (``overlap_ok``: fill_, zero_, as torch)."""
    a = target._data
    # an empty tensor repeats nothing, whatever numpy reports as its strides
    if not a.flags.writeable or not overlap_ok and a.size and any(
            s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the tensor "
                           "before performing the operation.")


def check_overlap(target, op, *others) -> None:
    """PyTorch refuses an operand that overlaps the written-to tensor partly (``x.add_(x[0])``,
    ``x.mul_(x.t())``); the tensor itself, or a view of exactly its elements, is fine."""
    for o in others:
        if isinstance(o, TensorBase) and o is not target \
                and _overlap(target._data, o._data) == "partial":
            raise RuntimeError(f"{op}: unsupported operation: some elements of the input tensor "
                               "and the written-to tensor refer to a single memory location. "
                               "Please clone() the tensor before performing the operation.")


def _overlap(a, b) -> str:
    """PyTorch's memory-overlap status of two arrays: "full" (the same elements in the same
    layout), "partial", "no", or "too_hard" (either not dense: PyTorch does not check those)."""
    if a is b:
        return "full"
    if a.size == 0 or b.size == 0:
        return "no"
    if not _dense(a) or not _dense(b):
        return "too_hard"
    a0, b0 = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    a1, b1 = a0 + a.nbytes, b0 + b.nbytes
    if a0 == b0 and a1 == b1:
        return "full" if a.shape == b.shape and _strides(a) == _strides(b) else "partial"
    return "partial" if a0 < b1 and b0 < a1 else "no"


def same_layout(a, b) -> bool:
    """The same elements in the same layout (a copy from one to the other changes nothing)."""
    return a is b or (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                      and a.shape == b.shape and _strides(a) == _strides(b)
                      and a.dtype == b.dtype)


def _strides(a) -> tuple:
    """The strides that matter: numpy and PyTorch pick a size-1 dim's stride differently
    (``x[-1, None]`` of a (1, 3) tensor is the same layout in PyTorch, not in numpy's strides)."""
    return tuple(s for s, n in zip(a.strides, a.shape) if n != 1)


def _dense(a) -> bool:
    """Non-overlapping and dense: some order of the dims is C-contiguous (size-1 dims aside)."""
    expected = a.itemsize
    for stride, size in sorted((s, n) for s, n in zip(a.strides, a.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def check_result(target, op, dtype, shape) -> None:
    """The result of ``op`` must fit ``target``: same shape, and a cast PyTorch allows."""
    if tuple(shape) != target.shape:
        raise RuntimeError(f"{op}: output with shape {list(target.shape)} doesn't match the "
                           f"broadcast shape {list(shape)}")
    dst = target._data.dtype
    if dtype != dst and not can_cast(dtype, dst):
        raise RuntimeError(f"{op}: result type {_NAMES.get(str(dtype), dtype)} can't be cast to "
                           f"the desired output type {_NAMES.get(str(dst), dst)}")


def apply_inplace(fn, target, *others, **static):
    """Run ``fn.forward(ctx, target_array, *others)``, which writes into the target's array, and
    record it as ``target``'s new history when grad mode and the inputs ask for it."""
    args = (target,) + others
    is_tensor = [True] + [isinstance(a, TensorBase) for a in others]
    arrays = [a._data if t else a for a, t in zip(args, is_tensor)]
    needs = tuple(t and a.requires_grad for a, t in zip(args, is_tensor))
    record = is_grad_enabled() and any(needs)
    if record:
        check_inplace(target, fn.op_name)
        edges = tuple(a._edge() if need else (None, 0) for a, need in zip(args, needs))
        ctx = BackwardNode(fn, needs)
        if fn.name_for is not None:
            ctx._name = fn.name_for(is_tensor, arrays, static)
    else:
        ctx = _NoGradContext(needs)
    fn.forward(ctx, *arrays, **static)
    target._bump_version()
    if record:
        connect(ctx, args, is_tensor, (target,), edges)  # saved results: the version after
        rebase(target, ctx, 0)
    return target


def assign_result(target, op, out, others=()):
    """Make ``out`` (the op computed out of place, recorded) ``target``'s value and history;
    ``others`` are the op's other operands."""
    node = out._grad_fn
    op_node = node  # the op itself, before any cast back to the target's dtype
    op_node_out = out._data
    if out._data.dtype != target._data.dtype and node is not None:
        out = out.type(target._data.dtype)  # recorded, so the gradient comes back cast
        node = out._grad_fn
    aliased = any(isinstance(o, TensorBase) and o._version_counter is target._version_counter
                  for o in others)
    for n in (op_node, node) if op_node is not node else (node,):
        if isinstance(n, BackwardNode) and n._saved:
            _protect_saved(n, target, aliased and n is op_node)
    computed = out._data if op_node is node else op_node_out
    np.copyto(target._data, out._data, casting="unsafe")
    target._bump_version()
    if node is not None:
        _saved_result_is_target(op_node, computed, target)
        rebase(target, node, out._output_nr)
    elif target._base is None and target._grad_fn is not None:
        target._grad_fn, target._requires_grad = None, False
    return target


def _saved_result_is_target(node, computed, target):
    """An op that saved its own result (sigmoid, tanh, exp, sqrt ...) saved what is now the
    target's value: as in PyTorch, a later in-place change to the target fails its backward."""
    if isinstance(node, BackwardNode) and any(s is computed for s in node._saved):
        node._versions = node._versions + (_SavedVersion(computed, target),)


def _protect_saved(node, target, aliased):
    """The op saved (a view of) the target's old value, which is about to be overwritten: it
    keeps a private copy instead, as PyTorch saves the original self of an in-place op. (A
    promoted copy of the target shares its version counter: it is private already.)

    ``aliased``: another operand is the target or shares its storage and version counter
    (``a.mul_(a)``, ``v /= v``, ``y.mul_(y.detach())``). PyTorch saves such an operand as it is,
    so its version check fails in backward: what the op saved past its first slot (the slots of
    the other operands: the ops run here save per input, in order) keeps its check."""
    array = target._data
    kept = set()
    saved = []
    for i, s in enumerate(node._saved):
        if isinstance(s, np.ndarray) and np.may_share_memory(s, array):
            if aliased and i > 0:
                kept.add(id(s))
            else:
                s = s.copy()
        saved.append(s)
    node._saved = tuple(saved)
    node._versions = tuple(v for v in node._versions if id(v.array) in kept or (
        not np.may_share_memory(v.array, array) and v.counter is not target._version_counter))


def rebase(target, node, output_nr) -> None:
    """``target`` was changed in place by ``node``'s op: make that its history."""
    base = target._base
    if base is None:
        target._grad_fn, target._output_nr = node, output_nr
        target._requires_grad = True
        return
    old = base._edge() if base.requires_grad else (None, 0)
    base._grad_fn = CopySlices(old, (node, output_nr), base.shape, target._view_fn,
                               _repeats(target._data))
    base._output_nr = 0
    base._requires_grad = True


def _repeats(a) -> bool:
    return bool(a.size) and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape))


class CopySlices(Node):
    """The history of a base after an in-place op on one of its views: the view's region of the
    gradient goes to the op's node, the rest to the base's previous history."""

    def __init__(self, base_edge, op_edge, base_shape, view_fn, overlapping=False):
        super().__init__()
        self.next_functions = (base_edge, op_edge)
        self._base_shape = base_shape
        self._view_fn = view_fn
        # the view repeats elements (an expansion, written by fill_/zero_): PyTorch's backward
        # writes the gradient into such a view of a buffer and refuses, as here
        self._overlapping = overlapping

    def name(self) -> str:
        return "CopySlices"

    def _region(self):
        """Flat (C-order) indices into the base of the view's elements, in the view's shape."""
        idx = np.arange(int(np.prod(self._base_shape)), dtype=np.int64).reshape(self._base_shape)
        for fn, static in self._view_fn:
            idx = fn.forward(_NoGradContext((False,)), idx, **static)
        return idx

    def apply(self, grads, retain_graph):
        (grad,) = grads
        if grad is None:
            return (None, None)
        if self._overlapping:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
        region = self._region()
        flat = np.ascontiguousarray(grad).reshape(-1)
        rest = flat.copy()
        rest[region.reshape(-1)] = 0
        return (rest.reshape(self._base_shape) if self.next_functions[0][0] is not None else None,
                flat[region])

    def apply_graph(self, grads, retain_graph, make):
        # the same split in recorded ops: the base keeps grad * (1 outside the region), the op
        # gets the region gathered (an index of the flat gradient)
        (grad,) = grads
        if grad is None:
            return (None, None)
        region = self._region()
        flat = grad.reshape(-1)
        outside = np.ones(flat.shape, grad._data.dtype)
        outside[region.reshape(-1)] = 0
        rest = (flat * make(outside)).reshape(self._base_shape)
        return (rest if self.next_functions[0][0] is not None else None, flat[make(region)])
