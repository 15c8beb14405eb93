"""``torch.autograd.Function`` for users: forward and backward written in Tensor ops.

    class Exp(minitorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

As in PyTorch: ``forward`` runs in no-grad mode on the Tensors it is given (other arguments pass
through); ``backward`` receives one gradient Tensor per output and returns one gradient (or None)
per argument of forward. ``ctx`` offers ``save_for_backward`` / ``saved_tensors`` (checked against
in-place changes), ``needs_input_grad``, ``mark_dirty``, ``mark_non_differentiable`` and
``set_materialize_grads``; a ``setup_context(ctx, inputs, output)`` staticmethod may take ctx's
part instead of forward. Under ``create_graph=True`` backward runs in grad mode, so its Tensor ops
are recorded and a second derivative follows (unless it is ``@once_differentiable``).

An output that is an input returned as-is, or a view of one, is a view whose in-place change is
refused, as PyTorch refuses it (the custom backward would be bypassed).

The library's own ops subclass ``minitorch.autograd.function.Function`` instead, which computes on
arrays.
"""
import numpy as np

from .function import (_FREED_MESSAGE, BackwardNode, NoDoubleBackward, _fit_array,
                       connect, modified_message, once_differentiable,
                       unbroadcast_tensor)
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .variable import TensorBase

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` of a forward that records nothing (no input needs a gradient, or no_grad)."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        _check_saveable(tensors)
        self.to_save = tensors

    @property
    def saved_tensors(self):
        return getattr(self, "to_save", ())

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = bool(value)


def _check_saveable(tensors):
    for i, t in enumerate(tensors):
        if t is not None and not isinstance(t, TensorBase):
            raise TypeError(f"save_for_backward can only save variables, but argument {i} is of "
                            f"type {type(t).__name__}")


class _SavedOutput:
    """Output ``nr`` saved for backward: kept as its array (holding the output Tensor would tie
    it to its own grad_fn), rebuilt as a Tensor whose history is the node when unpacked."""

    __slots__ = ("array", "nr", "counter", "requires_grad")

    def __init__(self, tensor, nr):
        self.array, self.nr = tensor._data, nr
        self.counter = tensor._version_counter
        self.requires_grad = tensor._requires_grad


class _CustomNode(BackwardNode):
    """The grad_fn (and ctx) of a user Function's outputs."""

    _reserved = BackwardNode._reserved + ("_to_save", "_saved_at", "_dirty", "_make_tensor",
                                          "_arg_is_tensor")

    def __init__(self, fn, needs_input_grad, arg_is_tensor, make_tensor):
        super().__init__(fn, needs_input_grad)
        self.materialize_grads = True
        self._to_save = ()
        self._saved_at = ()
        self._dirty = ()
        self._make_tensor = make_tensor
        self._arg_is_tensor = arg_is_tensor

    def name(self) -> str:
        return f"{self._fn.__name__}Backward"

    # --------------------------------------------------------------- ctx API
    def save_for_backward(self, *tensors):
        _check_saveable(tensors)
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = tuple(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        if self._freed and self._had_state:
            raise RuntimeError(_FREED_MESSAGE)
        out = []
        for item, version in zip(self._saved, self._saved_at):
            if item is None:
                out.append(None)
                continue
            counter = item.counter if isinstance(item, _SavedOutput) else item._version_counter
            if counter[0] != version:
                raise RuntimeError(_modified_message(self, item, counter[0], version))
            out.append(self._unpack(item))
        return tuple(out)

    def _unpack(self, item):
        if not isinstance(item, _SavedOutput):
            return item
        t = self._make_tensor(item.array)
        t._version_counter = item.counter
        if item.requires_grad and is_grad_enabled():
            t._grad_fn, t._output_nr, t._requires_grad = self, item.nr, True
        return t

    # --------------------------------------------------------------- engine API
    def _grads_in(self, grads, wrap):
        out = []
        for g, (shape, dtype) in zip(grads, self._outputs_meta):
            if g is None and self.materialize_grads:
                g = np.zeros(shape, dtype)
            out.append(None if g is None else wrap(g))
        return out

    def apply(self, grads, retain_graph):
        with no_grad():
            result = self._fn.backward(self, *self._grads_in(grads, self._make_tensor))
        result = tuple(None if g is None else g._data for g in self._checked(result))
        out = self._per_input(result, _fit_array)
        if not retain_graph:
            self._free()
        return out

    def apply_graph(self, grads, retain_graph, make):
        grads = self._grads_in(grads, lambda g: g if isinstance(g, TensorBase) else make(g))
        if getattr(self._fn.backward, "_once_differentiable", False):
            with no_grad():
                result = self._checked(self._fn.backward(self, *grads))
            result = _no_double_backward(self, grads, result)
        else:
            with enable_grad():
                result = self._checked(self._fn.backward(self, *grads))

        def fit(g, shape, dtype):
            g = unbroadcast_tensor(g, shape)
            return g if g._data.dtype == dtype else g.type(dtype)
        out = self._per_input(result, fit)
        if not retain_graph:
            self._free()
        return out

    def _checked(self, result):
        """backward's result as one Tensor-or-None per argument of forward, with torch's errors."""
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self._arg_is_tensor)
        if len(result) > expected and all(g is None for g in result[expected:]):
            result = result[:expected]
        if len(result) != expected:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {expected}, got {len(result)})")
        for i, (g, is_tensor) in enumerate(zip(result, self._arg_is_tensor)):
            if g is None:
                continue
            if not isinstance(g, TensorBase):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if not is_tensor:
                raise RuntimeError(f"function {self.name()} returned a gradient different than "
                                   f"None at position {i + 1}, but the corresponding forward "
                                   "input was not a Variable")
            shape = self._inputs_meta[i][0]
            if not _expandable(shape, g.shape):
                raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index "
                                   f"{i} - got {list(g.shape)} but expected shape compatible "
                                   f"with {list(shape)}")
        return result

    def _free(self):
        # as torch: only what was saved goes (attributes set on ctx stay, and a Function that
        # saved nothing may run backward again)
        self._had_state = self._had_state or any(s is not None for s in self._saved)
        self._saved = self._to_save = self._saved_at = ()
        self._freed = True


def _expandable(shape, grad_shape):
    """Whether ``shape`` broadcasts to ``grad_shape`` (the gradient may then be summed down)."""
    if len(shape) > len(grad_shape):
        return False
    return all(s == g or s == 1 for s, g in zip(reversed(shape), reversed(grad_shape)))


def _no_double_backward(node, grads, result):
    """torch's ``once_differentiable``: the results depend on the incoming gradients only; when one
    of those is differentiable the results get a node that raises if it is reached."""
    edges = tuple(g._edge() for g in grads if g is not None and g.requires_grad)
    if not edges:
        return result
    sink = NoDoubleBackward(node.name(), edges, message="trying to differentiate twice a function "
                            "that was marked with @once_differentiable")
    for g in result:
        if g is not None and g._data.dtype.kind in "fc":
            g._grad_fn, g._requires_grad = sink, True
    return result


def _modified_message(node, item, version, expected):
    if isinstance(item, _SavedOutput):
        return modified_message(item.array.shape, item.array.dtype,
                                f"output {item.nr} of {node._fn.__name__}", version, expected)
    return modified_message(item.shape, item._data.dtype, f"saved by {node.name()}", version,
                            expected)


class Function:
    """Base class of a user-defined differentiable operation (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        is_tensor = tuple(isinstance(a, TensorBase) for a in args)
        tensors = [a for a, t in zip(args, is_tensor) if t]
        if not tensors:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        needs = tuple(t and is_grad_enabled() and a.requires_grad for a, t in zip(args, is_tensor))
        record = any(needs)
        make = tensors[0]._new
        if record:
            ctx = _node_class(cls)(cls, needs, is_tensor, make)
            edges = tuple(a._edge() if need else (None, 0) for a, need in zip(args, needs))
        else:
            ctx = FunctionCtx(needs)
        grad_mode = is_grad_enabled()
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                raw = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, raw)
            else:
                raw = cls.forward(ctx, *args, **kwargs)
        multi = isinstance(raw, tuple)
        outs = tuple(_output(o, args, ctx, grad_mode) for o in (raw if multi else (raw,)))
        if record:
            _record(ctx, args, is_tensor, outs, edges)
        return outs if multi else outs[0]


def _node_class(cls):
    """``<Name>Backward``, the grad_fn class of ``cls`` (made once), as torch names it."""
    node = cls.__dict__.get("_backward_cls")
    if node is None:
        node = type(f"{cls.__name__}Backward", (_CustomNode,), {})
        cls._backward_cls = node
    return node


def _output(o, args, ctx, grad_mode):
    """An output of forward as the caller gets it: an input returned as-is becomes a new alias of
    it (a view in grad mode), unless forward modified it in place and said so (``mark_dirty``)."""
    if not isinstance(o, TensorBase):
        return o
    if any(o is d for d in getattr(ctx, "_dirty", ())):
        return o
    if any(o is a for a in args):
        alias = o._new(o._data.view())
        if grad_mode:
            alias._version_counter = o._version_counter
            alias._base = o._base if o._base is not None else o
            alias._view_fn = o._view_fn
            alias._view_version = o._version_counter[0]
        return alias
    return o


def _record(ctx, args, is_tensor, outs, edges):
    for d in ctx._dirty:
        if d._base is not None:
            raise RuntimeError("mark_dirty on a view is not supported: clone() the view before "
                               "modifying it in forward")
        if d._grad_fn is None and d._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        d._bump_version()
    tensor_outs = [o for o in outs if isinstance(o, TensorBase)]
    connect(ctx, args, is_tensor, tensor_outs, edges=edges)
    ctx._versions = ()
    inputs = [a for a, t in zip(args, is_tensor) if t]
    nr = {id(o): i for i, o in enumerate(tensor_outs)}
    for i, o in enumerate(tensor_outs):
        if id(o) in ctx._non_diff or o._data.dtype.kind not in "fc":
            o._requires_grad = False
            continue
        if o._base is not None and not any(o is d for d in ctx._dirty):
            _as_custom_view(o, ctx, i, inputs)
        o._requires_grad = True
        o._grad_fn = ctx
        o._output_nr = i
    saved = []
    for t in ctx._to_save:
        saved.append(_SavedOutput(t, nr[id(t)]) if t is not None and id(t) in nr else t)
    ctx._saved = tuple(saved)
    ctx._saved_at = tuple(None if s is None else (s.counter if isinstance(s, _SavedOutput)
                                                  else s._version_counter)[0] for s in saved)


def _as_custom_view(o, ctx, nr, inputs):
    """A view among the outputs: of an input, it stays one (in-place changes refused, as torch);
    of a tensor made inside forward, it is a plain tensor."""
    base = o._base
    if any(base is a or base is a._base for a in inputs):
        o._view_no_grad = False
        o._multi_output = (ctx._fn.__name__, nr, "custom")
    else:
        o._base, o._view_fn, o._view_no_grad = None, (), False
