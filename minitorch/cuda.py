"""``minitorch.cuda``: what a PyTorch program asks about CUDA, answered for a CPU-only framework.

``is_available()`` is False and ``device_count()`` 0, so the usual portable line
``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU. Seeding and cache
calls do nothing (as in a CPU build of torch); anything that needs a GPU raises ``DeviceError``.
"""
from ._device import PORTABLE_HINT, DeviceError

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "empty_cache", "memory_allocated", "max_memory_allocated", "synchronize",
           "current_device", "set_device", "get_device_name", "get_device_properties"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed) -> None:
    """Does nothing: there is no CUDA generator (torch's CPU build ignores it too)."""


def manual_seed_all(seed) -> None:
    """Does nothing: there is no CUDA generator."""


def empty_cache() -> None:
    """Does nothing: there is no CUDA memory to release."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def _unavailable(what):
    raise DeviceError(f"minitorch runs on the CPU only: torch.cuda.{what}() needs a GPU; "
                      f"{PORTABLE_HINT}")


def synchronize(device=None):
    _unavailable("synchronize")


def current_device():
    _unavailable("current_device")


def set_device(device):
    _unavailable("set_device")


def get_device_name(device=None):
    _unavailable("get_device_name")


def get_device_properties(device=None):
    _unavailable("get_device_properties")
