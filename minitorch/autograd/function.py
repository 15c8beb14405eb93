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

For ``create_graph=True`` (higher-order gradients) a Function also defines
``backward_graph(ctx, *grads)``: the same formulas in differentiable Tensor ops, on Tensor
gradients; ``ctx.saved_input(i, array)`` and ``ctx.saved_output(array)`` turn a saved array back
into a Tensor connected to the graph (through the node's input edge, or the node itself) so that
nothing beyond the arrays is kept alive for ordinary training. A Function without one computes
its gradient as usual and marks it with a node that raises if it is differentiated again.

``Mul.apply(x, y)`` takes and returns Tensors. ``apply`` is the one place that decides whether to
record (grad mode, ``requires_grad`` of the inputs), builds the node, marks outputs, and after
backward sums broadcast gradients back to each input's shape and dtype.
"""
import numpy as np

from .grad_mode import is_grad_enabled
from .node import AccumulateGrad, Node
from .variable import TensorBase

__all__ = ["Function", "Node", "BackwardNode", "AccumulateGrad", "NoDoubleBackward",
           "once_differentiable", "unbroadcast", "unbroadcast_tensor", "legacy_type_name",
           "modified_message"]


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting of an input of that shape."""
    if grad.shape == shape:
        return grad
    axes = _broadcast_axes(grad.shape, shape)
    out = grad.sum(axis=axes, keepdims=True) if axes else grad
    return out.reshape(shape)


def _broadcast_axes(grad_shape, shape):
    """The axes of ``grad_shape`` that broadcasting an array of ``shape`` added or stretched."""
    extra = len(grad_shape) - len(shape)
    return tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad_shape[i + extra] != 1)


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


def legacy_type_name(dtype) -> str:
    """torch's legacy tensor type name of a dtype (``FloatTensor`` for float32)."""
    return _TYPE_NAMES.get(str(dtype), str(dtype))


def modified_message(shape, dtype, what, version, expected) -> str:
    """The error for a saved tensor changed in place since it was saved (``what``: "saved by
    MulBackward0", "output 0 of Exp")."""
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [minitorch.{legacy_type_name(dtype)} {list(shape)}], which is "
            f"{what}, is at version {version}; expected version {expected} instead. Hint: use the "
            "out-of-place form (x = x + y, not x.add_(y)) or clone the tensor before modifying it.")


class BackwardNode(Node):
    """The ``grad_fn`` of a Function's outputs; it is also the ``ctx`` passed to forward and
    backward, so attributes set in forward (``ctx.stride = 2``) are there in backward."""

    _reserved = Node._reserved + ("_fn", "needs_input_grad", "_saved", "_versions", "_inputs_meta",
                                  "_outputs_meta", "_non_diff", "_freed", "_had_state",
                                  "materialize_grads", "_make", "_name")

    def __init__(self, fn, needs_input_grad):
        super().__init__()
        self._fn = fn
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._versions = ()
        self._non_diff = ()
        self._freed = False
        self._had_state = False
        self._make = None  # set while apply_graph runs: array -> Tensor
        self._name = None  # set by Function.name_for when PyTorch's name depends on the call

    def name(self) -> str:
        return self._name or self._fn.node_name or f"{self._fn.__name__}Backward0"

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
                raise RuntimeError(modified_message(sv.shape, sv.dtype, f"saved by {self.name()}",
                                                    sv.counter[0], sv.expected))

    def apply(self, grads, retain_graph):
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        self._check_versions()
        grads = [g if g is not None else np.zeros(shape, dtype)
                 for g, (shape, dtype) in zip(grads, self._outputs_meta)]
        out = self._per_input(self._fn.backward(self, *grads), _fit_array)
        if not retain_graph:
            self._free()
        return out

    def apply_graph(self, grads, retain_graph, make):
        """``apply`` under ``create_graph``: Tensor gradients in, recorded Tensor gradients out."""
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        self._check_versions()
        grads = [g if g is not None else make(np.zeros(shape, dtype))
                 for g, (shape, dtype) in zip(grads, self._outputs_meta)]
        self._make = make
        try:
            if self._fn.backward_graph is None:
                result = _once_differentiable(self, grads, make)
            else:
                result = self._fn.backward_graph(self, *grads)
        finally:
            self._make = None

        def fit(g, shape, dtype):
            g = unbroadcast_tensor(g if isinstance(g, TensorBase) else make(np.asarray(g)), shape)
            return g if g._data.dtype == dtype else g.type(dtype)
        out = self._per_input(result, fit)
        if not retain_graph:
            self._free()
        return out

    def _per_input(self, result, fit):
        """One gradient per input of forward, each ``fit`` to its input's shape and dtype (None
        for an input that needs none)."""
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.next_functions):
            raise RuntimeError(f"{self.name()} returned {len(result)} gradients, expected "
                               f"{len(self.next_functions)} (one per input of forward)")
        return [None if g is None or node is None else fit(g, *meta)
                for g, meta, (node, _) in zip(result, self._inputs_meta, self.next_functions)]

    def saved_input(self, i, array):
        """A saved array that is (a value of) forward's input ``i``, as a Tensor whose history is
        that input's (its edge in ``next_functions``): differentiable in ``backward_graph``."""
        t = self._shared(array)
        node, nr = self.next_functions[i]
        if node is not None:
            t._grad_fn, t._output_nr, t._requires_grad = node, nr, True
        elif self.needs_input_grad[i]:
            t._requires_grad = True  # a no_grad view: requires grad, its gradient goes nowhere
        return t

    def _shared(self, array):
        """A Tensor of a saved array that shares the version counter of the tensor it was saved
        from, so that the double-backward graph notices a later in-place change to it too."""
        t = self._make(array)
        for sv in self._versions:
            if sv.array is array:
                t._version_counter = sv.counter
                break
        return t

    def saved_output(self, array, nr=0):
        """A saved array that is forward's output ``nr``, as a Tensor whose history is this node."""
        t = self._shared(array)
        if array.dtype.kind in "fc":
            t._grad_fn, t._output_nr, t._requires_grad = self, nr, True
        return t

    def constant(self, array):
        """An array of backward's formula that has no gradient (a mask, an index), as a Tensor."""
        return self._make(np.asarray(array))

    def _free(self):
        # Drop what forward saved, including attributes it set on ctx (buffers, indices, ...).
        extra = [k for k in self.__dict__ if k not in self._reserved]
        self._had_state = bool(self._saved) or bool(extra)
        for k in extra:
            del self.__dict__[k]
        self._saved = ()
        self._versions = ()
        self._freed = True


def _fit_array(g, shape, dtype):
    g = unbroadcast(np.asarray(g), shape)
    return g if g.dtype == dtype else g.astype(dtype)


def unbroadcast_tensor(grad, shape: tuple):
    """``unbroadcast`` in recorded Tensor ops (for create_graph)."""
    if grad.shape == shape:
        return grad
    axes = _broadcast_axes(grad.shape, shape)
    out = grad.sum(dim=axes, keepdim=True) if axes else grad
    return out.reshape(shape)


def once_differentiable(backward):
    """Mark a user Function's ``backward`` as not itself differentiable: under
    ``create_graph=True`` its results get a node that raises if differentiated again."""
    backward._once_differentiable = True
    return backward


class NoDoubleBackward(Node):
    """The grad_fn of a gradient computed by a Function that has no ``backward_graph``: the
    gradient itself is right, but differentiating it again raises, naming the Function."""

    def __init__(self, op_name, edges, message=None):
        super().__init__()
        self.next_functions = edges  # so grad() of it reaches this node (and raises) rather
        self._op_name = op_name      # than skipping it as unused
        self._message = message

    def name(self) -> str:
        return "NotImplemented"

    def _raise(self):
        if self._message:  # (torch raises "the derivative for ... is not implemented" as this)
            kind = NotImplementedError if self._message.startswith("the derivative for") \
                else RuntimeError
            raise kind(self._message)
        raise RuntimeError(f"{self._op_name} does not support create_graph=True (double "
                           "backward): its gradient cannot be differentiated again")

    def apply(self, grads, retain_graph):
        self._raise()

    def apply_graph(self, grads, retain_graph, make):
        self._raise()


def _once_differentiable(node, grads, make, message=None):
    """The first-order gradient of a Function without ``backward_graph``, by its array
    ``backward``; results that would need a second derivative get a ``NoDoubleBackward`` node
    (which raises ``message`` when given, else one naming the Function)."""
    result = node._fn.backward(node, *[g._data for g in grads])
    if not isinstance(result, tuple):
        result = (result,)
    edges = tuple(g._edge() for g in grads if g.requires_grad) + tuple(
        e for e in node.next_functions if e[0] is not None)
    sink = NoDoubleBackward(node.name(), edges, message)
    out = []
    for r in result:
        if r is None:
            out.append(None)
            continue
        t = make(np.asarray(r))
        if t._data.dtype.kind in "fc":
            t._grad_fn, t._requires_grad = sink, True
        out.append(t)
    return tuple(out)


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
    backward_graph = None  # staticmethod(ctx, *grad Tensors) in Tensor ops, for create_graph
    # staticmethod(is_tensor, arrays, static) -> PyTorch's grad_fn name where it depends on the
    # call (SumBackward0/1, RsubBackward1, SelectBackward0 ...); None: node_name
    name_for = None

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
            if cls.name_for is not None:
                ctx._name = cls.name_for(is_tensor, arrays, static)
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
