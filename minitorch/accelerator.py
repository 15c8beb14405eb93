"""``minitorch.accelerator``: torch's device-agnostic accelerator API, with no accelerator.

As on a CPU-only build of torch: ``is_available()`` is False, ``device_count()`` 0 and
``current_accelerator()`` None, so ``torch.accelerator.current_accelerator() or "cpu"``-style
code selects the CPU; calls that need a device raise ``DeviceError``.
"""
from ._device import PORTABLE_HINT, DeviceError

__all__ = ["is_available", "device_count", "current_accelerator", "current_device_index",
           "set_device_index", "synchronize"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: minitorch has no accelerator (the CPU is not one, as in torch)."""
    return None


def _no_accelerator(*args, **kwargs):
    raise DeviceError(f"Cannot access accelerator device when none is available (minitorch runs "
                      f"on the CPU only; {PORTABLE_HINT})")


current_device_index = set_device_index = synchronize = _no_accelerator
