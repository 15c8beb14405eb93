"""A module call with forward hooks, PyTorch's order and rules (``Module.__call__`` comes here
only when a module has hooks, so the hook-free call stays one check and one call):

1. forward pre-hooks, in registration order (``prepend=True`` ones first): ``hook(module,
   args)`` may return new args (a non-tuple is wrapped); with ``with_kwargs=True``
   ``hook(module, args, kwargs)`` may return ``(new_args, new_kwargs)``;
2. ``forward(*args, **kwargs)``;
3. forward hooks: ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
   ``with_kwargs=True``) may return a new output.

If anything raises, the ``always_call=True`` forward hooks that have not run yet still run (with
output None when forward did not finish; an error of theirs becomes a warning), then the original
error propagates.
"""
import warnings

__all__ = ["call_with_hooks"]


def _run_pre_hooks(module, args, kwargs):
    with_kwargs = module._forward_pre_hooks_with_kwargs
    for hook_id, hook in list(module._forward_pre_hooks.items()):
        if hook_id in with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _run_hook(module, hook_id, hook, args, kwargs, output):
    if hook_id in module._forward_hooks_with_kwargs:
        return hook(module, args, kwargs, output)
    return hook(module, args, output)


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its forward pre-hooks and forward hooks."""
    output, ran = None, set()
    try:
        args, kwargs = _run_pre_hooks(module, args, kwargs)
        output = module.forward(*args, **kwargs)
        for hook_id, hook in list(module._forward_hooks.items()):
            ran.add(hook_id)
            result = _run_hook(module, hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result
        return output
    except Exception:
        for hook_id, hook in list(module._forward_hooks.items()):
            if hook_id not in module._forward_hooks_always_called or hook_id in ran:
                continue
            try:
                result = _run_hook(module, hook_id, hook, args, kwargs, output)
                if result is not None:
                    output = result
            except Exception as err:
                warnings.warn(f"forward hook with ``always_call=True`` raised an exception that "
                              f"was silenced as another error was raised in forward: {err}")
        raise
