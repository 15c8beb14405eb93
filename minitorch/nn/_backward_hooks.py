"""Module backward hooks (``register_full_backward_hook`` / ``_pre_hook``), as PyTorch does them:
the module's tensor inputs and outputs pass through identity autograd nodes. The outputs' node
sees grad_output first (and runs the pre-hooks, which may replace it); the inputs' node then sees
grad_input and runs the hooks with both (a hook's non-None result replaces grad_input). When no
input needs a gradient, the hooks run from the outputs' node with grad_input all None.

Installed as one forward pre-hook and one forward hook on the module (``install``), so
``Module.__call__`` needs no knowledge of them and costs nothing for modules without them.
"""
import numpy as np

from minitorch.autograd.function import Function
from minitorch.autograd.grad_mode import is_grad_enabled
from minitorch.tensor import Tensor

__all__ = ["install", "keep_last"]


class _CallState:
    """What one forward call's two identity nodes share."""

    def __init__(self, module, n_inputs):
        self.module = module
        self.n_inputs = n_inputs   # tensor positional inputs
        self.inputs_tracked = False
        self.grad_output = None


def _as_tensors(arrays):
    return tuple(None if a is None else Tensor._new(a) for a in arrays)


def _as_arrays(result, like, what, module):
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(like):
        raise RuntimeError(f"backward hook of {type(module).__name__} returned {len(result)} "
                           f"{what} gradients, expected {len(like)}")
    return tuple(None if g is None else (g._data if isinstance(g, Tensor) else np.asarray(g))
                 for g in result)


def _run_hooks(state, grad_input):
    module = state.module
    for hook in list(module._backward_hooks.values()):
        result = hook(module, _as_tensors(grad_input), _as_tensors(state.grad_output))
        if result is not None:
            grad_input = _as_arrays(result, grad_input, "input", module)
    return grad_input


class _Identity(Function):
    """Identity on arrays whose backward calls ``on_grad(state, grads) -> grads``."""

    node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, *arrays, state=None, on_grad=None):
        ctx.state, ctx.on_grad = state, on_grad
        outs = tuple(a.view() for a in arrays)   # share storage: these are views of the inputs
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx, *grads):
        grads = ctx.on_grad(ctx.state, grads)
        return grads if len(grads) > 1 else grads[0]


class _IdentityView(_Identity):
    """The one-tensor case: the output is a view of the input (one version counter), as torch."""

    is_view = True


def _outputs_grad(state, grads):
    module = state.module
    for hook in list(module._backward_pre_hooks.values()):
        result = hook(module, _as_tensors(grads))
        if result is not None:
            grads = _as_arrays(result, grads, "output", module)
    state.grad_output = grads
    if not state.inputs_tracked and module._backward_hooks:
        _run_hooks(state, (None,) * state.n_inputs)
    return grads


def _inputs_grad(state, grads):
    return _run_hooks(state, grads)


def _identity(tensors, state, on_grad):
    cls = _IdentityView if len(tensors) == 1 else _Identity
    out = cls.apply(*tensors, state=state, on_grad=on_grad)
    out = out if isinstance(out, tuple) else (out,)
    for i, o in enumerate(out):
        # as torch: an in-place change would bypass the hooks' node, so it is refused
        o._multi_output = ("BackwardHookFunction", i, "custom")
    return out


def _wrap_inputs(module, args):
    module.__dict__.pop("_backward_state", None)   # left by a forward that raised
    if not is_grad_enabled() or not (module._backward_hooks or module._backward_pre_hooks):
        return None
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    state = _CallState(module, len(positions))
    object.__setattr__(module, "_backward_state", state)
    tensors = [args[i] for i in positions]
    if not any(t.requires_grad for t in tensors):
        return None
    state.inputs_tracked = True
    args = list(args)
    for i, t in zip(positions, _identity(tensors, state, _inputs_grad)):
        args[i] = t
    return tuple(args)


def _wrap_outputs(module, args, output):
    state = module.__dict__.pop("_backward_state", None)
    if state is None:
        return None
    single = isinstance(output, Tensor)
    outputs = (output,) if single else output
    if not isinstance(outputs, tuple):
        return None   # a dict or a list: PyTorch's hooks see tensors only; leave it untouched
    positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not positions:
        return None
    wrapped = list(outputs)
    for i, t in zip(positions, _identity([outputs[i] for i in positions], state, _outputs_grad)):
        wrapped[i] = t
    return wrapped[0] if single else tuple(wrapped)


def install(module):
    """Add the two forward hooks that wire backward hooks in (once per module)."""
    if "_backward_hook_ids" in module.__dict__:
        return
    pre = module.register_forward_pre_hook(_wrap_inputs)
    post = module.register_forward_hook(_wrap_outputs)
    object.__setattr__(module, "_backward_hook_ids", (pre.id, post.id))


def keep_last(module):
    """Keep the two wiring hooks after the user's forward hooks, as torch wraps the inputs after
    every forward pre-hook ran and the outputs after every forward hook."""
    ids = module.__dict__.get("_backward_hook_ids")
    if ids is not None:
        module._forward_pre_hooks.move_to_end(ids[0])
        module._forward_hooks.move_to_end(ids[1])
