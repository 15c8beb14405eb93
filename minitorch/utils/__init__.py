"""Developer utilities that are not part of training itself (profiling)."""
from . import profile

__all__ = ["profile"]
