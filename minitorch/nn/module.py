"""``nn.Module``: the base of every layer and model, with PyTorch's registration semantics.

Assigning a ``Parameter``, a ``Module`` or (to a registered buffer name) a Tensor as an attribute
registers it in an ordered dict, so ``named_parameters()`` and ``state_dict()`` list names in
definition order; re-assigning a name (``model.fc = nn.Linear(512, 10)``) keeps its position.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from minitorch._device import PORTABLE_HINT, DeviceError, parse_to_args
from minitorch.autograd.grad_mode import no_grad
from minitorch.dtypes import to_numpy_dtype
from minitorch.nn import _backward_hooks, _forward_hooks
from minitorch.nn.parameter import Parameter
from minitorch.tensor import Tensor

__all__ = ["Module", "StateDictError", "RemovableHandle"]

class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns; its repr is torch's when every key matched."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class StateDictError(RuntimeError):
    """Every problem ``load_state_dict`` found, one per line; the lists are kept as attributes."""

    def __init__(self, module_name, missing, unexpected, mismatched):
        self.missing_keys = list(missing)
        self.unexpected_keys = list(unexpected)
        self.mismatched = list(mismatched)  # (key, checkpoint shape, model shape)
        lines = [f"Error(s) in loading state_dict for {module_name}:"]
        lines += [f'  missing key: "{k}"' for k in self.missing_keys]
        lines += [f'  unexpected key: "{k}"' for k in self.unexpected_keys]
        lines += [f"  size mismatch for {k}: copying a param with shape {src} from checkpoint, "
                  f"the shape in current model is {dst}." for k, src, dst in self.mismatched]
        super().__init__("\n".join(lines))


class RemovableHandle:
    """Returned by ``register_forward_hook`` & co; ``remove()`` unregisters the hook (and its
    flags in ``extra_dict``: with_kwargs, always_call); also a context manager, as torch's."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, extra_dict=()):
        self._hooks = hooks
        self._extra = tuple(extra_dict)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)
        for extra in self._extra:
            extra.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _indent(text: str, spaces: int) -> str:
    """Indent every line but the first (a child's repr continues after its ``(name): `` tag)."""
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])


def _shape_of(value) -> tuple:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _as_array(value) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class Module:
    """Base class for all neural-network modules; subclasses define ``forward``."""

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        # hook ids registered with_kwargs=True / always_call=True (torch's attribute names)
        object.__setattr__(self, "_forward_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_forward_hooks_always_called", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            # the common case, kept to one call: a ResNet-18 forward makes ~70 module calls,
            # which matters at batch 1 (the hook lists and loops cost more than this check)
            return self.forward(*args, **kwargs)
        return _forward_hooks.call_with_hooks(self, args, kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); a non-None result replaces output. ``prepend`` runs it
        before the hooks already registered; ``always_call`` runs it even if forward raised."""
        handle = RemovableHandle(self._forward_hooks, (self._forward_hooks_with_kwargs,
                                                       self._forward_hooks_always_called))
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        _backward_hooks.keep_last(self)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before forward; a non-None result replaces the args. With
        ``with_kwargs``, ``hook(module, args, kwargs)`` may return ``(args, kwargs)``."""
        handle = RemovableHandle(self._forward_pre_hooks, (self._forward_pre_hooks_with_kwargs,))
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        _backward_hooks.keep_last(self)
        return handle

    def register_full_backward_hook(self, hook) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to the
        module's tensor inputs are computed (grad_input all None when no input needs one); a
        non-None result replaces grad_input."""
        return self._add_backward_hook(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the gradients with respect to the module's
        outputs are computed, before grad_input; a non-None result replaces grad_output."""
        return self._add_backward_hook(self._backward_pre_hooks, hook)

    def _add_backward_hook(self, hooks, hook) -> RemovableHandle:
        if "_backward_hooks" not in self.__dict__:
            raise AttributeError("cannot register a backward hook before Module.__init__() call")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        _backward_hooks.install(self)
        return handle

    # ----- registration -----------------------------------------------------------------------

    def _check_new_name(self, name, kind: str, registry: str):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param) -> None:
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._check_new_name(name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (minitorch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register a non-learnable tensor (running statistics); persistent ones are saved."""
        self._check_new_name(name, "buffer", "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (minitorch.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module) -> None:
        """Register a child module (or None) under ``name``."""
        self._check_new_name(name, "module", "_modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def _forget(self, name, *dicts):
        for d in dicts:
            d.pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(minitorch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, self._parameters, self._buffers)
            self._modules[name] = value  # an existing name keeps its place in the order
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (minitorch.nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(minitorch.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__()) | set(self._parameters) | set(self._buffers)
        return sorted((keys | set(self._modules)) - {k for k in keys if k[:1].isdigit()})

    # ----- traversal -------------------------------------------------------------------------

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(dotted_name, module)`` for this module and every descendant, depth first."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # iterative, so deep nets cannot overflow the stack
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        """Yield ``(dotted_name, Parameter)`` in registration order, each parameter once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target: str):
        """The descendant at a dotted path (``"layer1.0.conv1"``); AttributeError naming it."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' "
                                     f"(looking up '{target}')")
            module = module._modules[part]
        return module

    # ----- modes and gradients ---------------------------------------------------------------

    def train(self, mode: bool = True):
        """Set training mode on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        """Set ``requires_grad`` on every parameter of the subtree (freezing it when False)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad._data[...] = 0
                param.grad._bump_version()

    def apply(self, fn):
        """Call ``fn`` on every descendant, children first, then on self (like PyTorch)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- state dict ------------------------------------------------------------------------

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of dotted names to tensors: parameters, then persistent buffers, per
        module in registration order. Values share storage but are detached unless keep_vars."""
        out = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            head = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    out[head + name] = param if keep_vars else param.detach()
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers:
                    out[head + name] = buf if keep_vars else buf.detach()
        return out

    def _optional_state_keys(self) -> set:
        """Local names this module may load without (BatchNorm's num_batches_tracked)."""
        return set()

    def _state_targets(self):
        """``(dotted_name, tensor, optional)`` for every entry ``state_dict`` would hold."""
        for prefix, module in self.named_modules():
            head = f"{prefix}." if prefix else ""
            optional = module._optional_state_keys()
            for name, param in module._parameters.items():
                if param is not None:
                    yield head + name, param, name in optional
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent_buffers:
                    yield head + name, buf, name in optional

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy ``state_dict`` (names to Tensors or arrays) into this module's tensors in place.

        Every missing key, unexpected key and shape mismatch is collected and reported in one
        ``StateDictError``; shape mismatches are errors even with ``strict=False``. Nothing is
        copied when an error is raised. Returns ``(missing_keys, unexpected_keys)``.
        """
        targets = list(self._state_targets())
        known = {name for name, _, _ in targets}
        missing, mismatched, copies = [], [], []
        for name, tensor, optional in targets:
            if name not in state_dict:
                if not optional:
                    missing.append(name)
                continue
            value = state_dict[name]
            if _shape_of(value) != tuple(tensor.shape):
                mismatched.append((name, _shape_of(value), tuple(tensor.shape)))
            else:
                copies.append((tensor, value))
        unexpected = [key for key in state_dict if key not in known]
        if mismatched or (strict and (missing or unexpected)):
            raise StateDictError(type(self).__name__, missing if strict else [],
                                 unexpected if strict else [], mismatched)
        with no_grad():
            for tensor, value in copies:
                np.copyto(tensor._data, _as_array(value), casting="unsafe")
                tensor._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # ----- dtype conversion ------------------------------------------------------------------

    def _cast_(self, np_dtype) -> "Module":
        """Convert every floating parameter, its grad, and floating buffer to ``np_dtype``."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor._data.dtype.kind == "f":
                tensor._data = tensor._data.astype(np_dtype)
                if tensor.grad is not None:
                    tensor.grad._data = tensor.grad._data.astype(np_dtype)
        return self

    def double(self):
        return self._cast_(np.float64)

    def float(self):
        return self._cast_(np.float32)

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, in place.

        The CPU is a no-op (minitorch runs on nothing else: any other device raises
        ``DeviceError``); a floating dtype casts every floating parameter and buffer.
        """
        _, dtype, _ = parse_to_args(args, kwargs, Tensor)
        if dtype is not None:
            np_dtype = to_numpy_dtype(dtype)
            if np_dtype.kind != "f":
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                                f"desired dtype={dtype!r}")
            self._cast_(np_dtype)
        return self

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise DeviceError(f"minitorch runs on the CPU only: Module.cuda() is not available; "
                          f"{PORTABLE_HINT}, then model.to(device)")

    # ----- repr ------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The module's own settings for ``repr`` (subclasses override)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({key}): {_indent(repr(module), 2)}"
                    for key, module in self._modules.items()]
        if len(extra) == 1 and not children:
            return f"{self._get_name()}({extra[0]})"
        if not extra and not children:
            return f"{self._get_name()}()"
        return f"{self._get_name()}(\n  " + "\n  ".join(extra + children) + "\n)"
