"""``Function``: the unit of differentiation, and the graph node (``grad_fn``) it records.

A Function subclass computes on numpy arrays:

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return (grad * b if ctx.needs_input_grad[0] else None,
                    grad * a if ctx.needs_input_grad[1] else None)

``Mul.apply(x, y)`` takes and returns Tensors. ``apply`` is the one place that decides whether to
record (grad mode, ``requires_grad`` of the inputs), builds the node, marks outputs, and after
backward sums broadcast gradients back to each input's shape and dtype.
"""
import numpy as np

from .grad_mode import is_grad_enabled
from .node import AccumulateGrad, Node
from .variable import TensorBase

__all__ = ["Function", "Node", "BackwardNode", "AccumulateGrad", "unbroadcast"]


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting of an input of that shape."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    return out.reshape(shape)


class _SavedVersion:
    """A saved array that is (or views) some tensor's storage, and the version it had when saved."""

    __slots__ = ("array", "counter", "expected", "shape", "dtype")

    def __init__(self, array, tensor):
        self.array = array
        self.counter = tensor._version_counter
        self.expected = tensor._version_counter[0]
        self.shape = tensor.shape
        self.dtype = tensor._data.dtype


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


class BackwardNode(Node):
    """The ``grad_fn`` of a Function's outputs; it is also the ``ctx`` passed to forward and
    backward, so attributes set in forward (``ctx.stride = 2``) are there in backward."""

    _reserved = Node._reserved + ("_fn", "needs_input_grad", "_saved", "_versions", "_inputs_meta",
                                  "_outputs_meta", "_non_diff", "_freed", "_had_state",
                                  "materialize_grads")

    def __init__(self, fn, needs_input_grad):
        super().__init__()
        self._fn = fn
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._versions = ()
        self._non_diff = ()
        self._freed = False
        self._had_state = False

    def name(self) -> str:
        return self._fn.node_name or f"{self._fn.__name__}Backward0"

    def save_for_backward(self, *arrays):
        self._saved = arrays

    def mark_non_differentiable(self, *arrays):
        self._non_diff = tuple(id(a) for a in arrays)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        return self._saved

    def _check_versions(self):
        for sv in self._versions:
            if sv.counter[0] != sv.expected:
                kind = _TYPE_NAMES.get(str(sv.dtype), str(sv.dtype))
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [minitorch.{kind} {list(sv.shape)}], which is saved by "
                    f"{self.name()}, is at version {sv.counter[0]}; expected version {sv.expected} "
                    "instead. Hint: use the out-of-place form (x = x + y, not x.add_(y)) or clone "
                    "the tensor before modifying it.")

    def apply(self, grads, retain_graph):
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        self._check_versions()
        grads = [g if g is not None else np.zeros(shape, dtype)
                 for g, (shape, dtype) in zip(grads, self._outputs_meta)]
        result = self._fn.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.next_functions):
            raise RuntimeError(f"{self.name()} returned {len(result)} gradients, expected "
                               f"{len(self.next_functions)} (one per input of forward)")
        out = []
        for g, meta, (node, _) in zip(result, self._inputs_meta, self.next_functions):
            if g is None or node is None:
                out.append(None)
                continue
            shape, dtype = meta
            g = unbroadcast(np.asarray(g), shape)
            out.append(g if g.dtype == dtype else g.astype(dtype))
        if not retain_graph:
            self._free()
        return out

    def _free(self):
        # Drop what forward saved, including attributes it set on ctx (buffers, indices, ...).
        extra = [k for k in self.__dict__ if k not in self._reserved]
        self._had_state = bool(self._saved) or bool(extra)
        for k in extra:
            del self.__dict__[k]
        self._saved = ()
        self._versions = ()
        self._freed = True


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


class _NoGradContext:
    """The ctx when nothing is recorded: saving is a no-op, so no-grad forward keeps nothing."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        pass

    def mark_non_differentiable(self, *arrays):
        pass


class Function:
    """Base class of differentiable operations; see the module docstring.

    ``is_view = True`` on a subclass says its output shares its first input's storage (reshape,
    transpose, basic indexing), so the two share one in-place version counter.
    """

    is_view = False
    node_name = None  # grad_fn.name(); default "<ClassName>Backward0"

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **static):
        is_tensor = [isinstance(a, TensorBase) for a in args]
        arrays = [a._data if t else a for a, t in zip(args, is_tensor)]
        needs = tuple(t and a.requires_grad for a, t in zip(args, is_tensor))
        grad_mode = is_grad_enabled()
        record = grad_mode and any(needs)
        ctx = BackwardNode(cls, needs) if record else _NoGradContext(needs)
        raw = cls.forward(ctx, *arrays, **static)
        multi = isinstance(raw, tuple)
        new = _maker(args, is_tensor)
        outs = tuple(new(_as_array(r)) for r in (raw if multi else (raw,)))
        if cls.is_view and is_tensor[0]:
            for o in outs:
                # a reshape that had to copy: not a view, nothing shared; an empty result is a
                # view in PyTorch (a no_grad x[1:] of a 1-element x keeps requires_grad)
                if o._data.size == 0 or np.may_share_memory(o._data, arrays[0]):
                    o._mark_view_of(args[0], cls, static, grad_mode)
        if record:
            _adopt_scalars(ctx, raw if multi else (raw,), outs)
            _connect(ctx, args, is_tensor, outs)
        return outs if multi else outs[0]


def _adopt_scalars(ctx, raw, outs):
    """A 0-d result that numpy gave as a scalar and forward saved: save the output tensor's array
    instead, so that an in-place change to the output is caught in backward (as for any rank)."""
    swap = {id(r): o._data for r, o in zip(raw, outs) if not isinstance(r, np.ndarray)}
    if swap and ctx._saved:
        ctx._saved = tuple(swap.get(id(s), s) if isinstance(s, np.generic) else s
                           for s in ctx._saved)


def _maker(args, is_tensor):
    """How outputs become tensors: the ``_new`` of the first tensor argument's class."""
    for a, t in zip(args, is_tensor):
        if t:
            return a._new
    raise TypeError("Function.apply needs at least one tensor argument")


def _as_array(r):
    return r if isinstance(r, np.ndarray) else np.asarray(r)


def _owner(s, tensors):
    """The tensor whose storage the saved array ``s`` is, or views (None: a private array)."""
    for t in tensors:
        if t._data is s:
            return t
    for t in tensors:
        if np.may_share_memory(s, t._data):
            return t
    return None


def saved_versions(saved, tensors):
    """A version record for each saved array that is or views one of ``tensors``' storage, so that
    backward notices an in-place change made to it after forward (derived views included)."""
    out = []
    for s in saved:
        if isinstance(s, np.ndarray):
            owner = _owner(s, tensors)
            if owner is not None:
                out.append(_SavedVersion(s, owner))
    return tuple(out)


def connect(ctx, args, is_tensor, outs, edges=None):
    """Make ``ctx`` the grad_fn of ``outs`` and link it to the inputs' nodes (``edges``, when the
    caller took them before an in-place op moved an input's history)."""
    ctx.next_functions = edges if edges is not None else tuple(
        a._edge() if need else (None, 0) for a, need in zip(args, ctx.needs_input_grad))
    ctx._inputs_meta = tuple((a.shape, a._data.dtype) if t else None
                             for a, t in zip(args, is_tensor))
    ctx._outputs_meta = tuple((o.shape, o._data.dtype) for o in outs)
    if ctx._saved:
        tensors = [a for a, t in zip(args, is_tensor) if t] + list(outs)
        ctx._versions = saved_versions(ctx._saved, tensors)


def _connect(ctx, args, is_tensor, outs):
    if all(o._data.dtype.kind not in "fc" for o in outs):
        return  # nothing differentiable came out (all, argmax, ==): PyTorch links no inputs
    connect(ctx, args, is_tensor, outs)
    for i, o in enumerate(outs):
        if id(o._data) in ctx._non_diff or o._data.dtype.kind not in "fc":
            continue
        o._requires_grad = True
        o._grad_fn = ctx
        o._output_nr = i
