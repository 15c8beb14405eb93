"""Thread-local gradient recording modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Like PyTorch, the flag is per thread: a ``no_grad`` block in one thread does not change what
another thread records. Each mode works as a context manager and, instantiated, as a decorator.
"""
import functools
import threading

__all__ = ["is_grad_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded for backward."""
    return getattr(_state, "enabled", True)


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradMode:
    """Base of the grad-mode context managers: saves the previous mode and restores it on exit."""

    def __init__(self, mode: bool = True):
        self._mode = bool(mode)

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self._mode)
        return self

    def __exit__(self, exc_type, exc, tb):
        _set_enabled(self._prev)
        return False

    def __call__(self, fn):
        mode = self._mode

        # Decorator form: a fresh manager per call keeps recursion and threads independent.
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable gradient recording in this thread (context manager or ``@no_grad()`` decorator)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(_GradMode):
    """Enable gradient recording in this thread, e.g. inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """Set gradient recording on or off. Like PyTorch it takes effect at once (so it also works
    as a plain call) and restores the previous mode at the end of a ``with`` block."""

    def __init__(self, mode: bool):
        super().__init__(mode)
        self._prev = is_grad_enabled()
        _set_enabled(self._mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set_enabled(self._prev)  # used as a decorator: the mode applies inside calls only
        return super().__call__(fn)


def is_inference_mode_enabled() -> bool:
    """True inside an ``inference_mode()`` block in this thread."""
    return getattr(_state, "inference", False)


class inference_mode(_GradMode):
    """PyTorch's ``inference_mode``: no recording (results never require grad, no graph), as a
    context manager, ``@inference_mode()`` or ``@inference_mode``. ``inference_mode(False)``
    changes nothing. (PyTorch's extra speed from skipping version counters does not apply.)"""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare as a decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__(False)
        self._inference = bool(mode)

    def __enter__(self):
        self._prev = is_grad_enabled()
        self._prev_inference = is_inference_mode_enabled()
        if self._inference:
            _set_enabled(False)
            _state.inference = True
        return self

    def __exit__(self, exc_type, exc, tb):
        _set_enabled(self._prev)
        _state.inference = self._prev_inference
        return False

    def __call__(self, fn):
        inference = self._inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return fn(*args, **kwargs)

        return wrapper
