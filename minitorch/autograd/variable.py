"""``TensorBase``: the autograd state of a tensor, below ``Tensor`` in the layering.

Autograd (``Function.apply``, the engine, in-place rebasing) works on this class only, so it never
imports ``minitorch.tensor``; a concrete tensor class subclasses it and says, through ``_new``,
how an op's output array becomes a tensor.

A *view* (the output of reshape/view, permute, squeeze/unsqueeze, expand or basic indexing that
shares its input's memory) records its root ``_base``, the chain of view Functions that rebuild it
from the base (``_view_fn``) and shares the base's version counter. When the base is changed in
place its history moves on, so the view's ``grad_fn`` is stale: it is regenerated on the next look
by replaying the chain on the base (PyTorch regenerates it the same way, as AsStridedBackward0).
"""
from .grad_mode import enable_grad
from .node import AccumulateGrad

__all__ = ["TensorBase", "view_refusal"]


class TensorBase:
    __slots__ = ("_data", "_requires_grad", "grad", "_grad_fn", "_output_nr", "_version_counter",
                 "_accumulate", "_retains_grad", "_base", "_view_fn", "_view_version",
                 "_view_no_grad", "_multi_output")

    @staticmethod
    def _new(array):
        """A new (plain) tensor holding ``array``: how an op's output becomes a tensor."""
        raise NotImplementedError

    def _init_autograd(self, data):
        self._data = data
        self._requires_grad = False
        self.grad = None
        self._grad_fn = None
        self._output_nr = 0
        self._version_counter = [0]
        self._accumulate = None
        self._retains_grad = False
        self._base = None
        self._view_fn = ()
        self._view_version = 0
        self._view_no_grad = False
        # (op name, output number) for an output of an op that returns several views (split,
        # unbind) and the views of one: torch refuses a recorded in-place op on them
        self._multi_output = None

    # ----------------------------------------------------------------- history
    @property
    def grad_fn(self):
        if self._base is not None:
            self._refresh_view()
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        base = self._base
        if base is not None:
            self._refresh_view(strict=False)
            # PyTorch: a (floating) view requires grad whenever its base does, also when the base
            # came to require grad after the view was taken (no_grad views, requires_grad_())
            return self._requires_grad or (base._requires_grad and self._data.dtype.kind in "fc")
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if value and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        self._requires_grad = bool(value)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    def _bump_version(self) -> None:
        self._version_counter[0] += 1

    def _is_view(self) -> bool:
        return self._base is not None

    def _edge(self):
        """The graph edge a consumer of this tensor links to."""
        node = self.grad_fn
        if node is not None:
            return (node, self._output_nr)
        if self._base is not None and (self._view_no_grad or not self._requires_grad):
            # PyTorch: a view taken in no_grad mode, or before its base required grad, collects
            # no gradient
            return (None, 0)
        if self._accumulate is None:
            self._accumulate = AccumulateGrad(self)
        return (self._accumulate, 0)

    # ----------------------------------------------------------------- views
    def _mark_view_of(self, src, fn, static, grad_mode: bool) -> None:
        """Make this tensor a view of ``src`` produced by ``fn.apply(src, **static)``."""
        self._version_counter = src._version_counter
        self._base = src._base if src._base is not None else src
        self._view_fn = src._view_fn + ((fn, static),)
        self._view_version = self._version_counter[0]
        # PyTorch: a view taken in no_grad mode has no history, but requires grad when its base
        # does; modifying it (or, once it is stale, reading its history) in grad mode is an error
        self._view_no_grad = src._view_no_grad or not grad_mode
        if src._multi_output is not None:
            custom = src._multi_output[2:] == ("custom",)
            self._multi_output = src._multi_output if custom else (fn.node_name or fn.__name__, 0)
        if not grad_mode:
            self._requires_grad = src.requires_grad

    def _refresh_view(self, strict: bool = True) -> None:
        """Regenerate a stale view's history from its base (``strict``: raise where PyTorch
        does, for a view taken in no_grad mode whose base requires grad)."""
        if self._view_version == self._version_counter[0]:
            return
        base = self._base
        if self._view_no_grad:
            if base._requires_grad and strict:
                raise RuntimeError(_NO_GRAD_VIEW_MESSAGE)
            return
        if self._multi_output is not None and base._requires_grad:
            if not strict:
                return  # (stays stale: the next strict look raises)
            raise RuntimeError(view_refusal(self._multi_output, "its base or another view of its "
                                            "base has been modified inplace"))
        self._view_version = self._version_counter[0]
        if not base._requires_grad:
            return
        with enable_grad():
            t = base
            for fn, static in self._view_fn:
                t = fn.apply(t, **static)
        self._grad_fn, self._output_nr = t._grad_fn, t._output_nr
        self._requires_grad = t._requires_grad
        if t._grad_fn is not None and hasattr(t._grad_fn, "_name"):
            t._grad_fn._name = "AsStridedBackward0"  # PyTorch's name for a regenerated view


def view_refusal(multi_output, what: str) -> str:
    """PyTorch's refusal of an in-place change that touches a view made by an op returning several
    views (split, unbind) or inside a custom Function (``multi_output``: name, output number[,
    "custom"]); ``what`` says what happened to the view."""
    name, nr = multi_output[0].removesuffix("Backward0"), multi_output[1]
    if multi_output[2:] == ("custom",):
        return (f"Output {nr} of {name} is a view and {what}. This view was created inside a "
                "custom Function (or because an input was returned as-is) and the autograd logic "
                "to handle view+inplace would override the custom backward associated with the "
                "custom Function, leading to incorrect gradients. This behavior is forbidden. You "
                "can fix this by cloning the output of the custom Function.")
    return (f"Output {nr} of {name} is a view and {what}. This view is the output of a function "
            "that returns multiple views. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one.")


_NO_GRAD_VIEW_MESSAGE = (
    "A view was created in no_grad mode and its base or another view of its base has been "
    "modified inplace with grad mode enabled. Given that this use case is ambiguous and "
    "error-prone, it is forbidden. You can clarify your code by moving both the view and the "
    "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) "
    "or both outside (if you want the inplace to be tracked).")
