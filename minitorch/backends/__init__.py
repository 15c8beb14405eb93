"""``minitorch.backends``: PyTorch's backend switches, for a framework that runs on the CPU.

``backends.mps.is_available()`` and ``backends.cuda.is_built()`` are False; the cuDNN flags
(``benchmark``, ``deterministic``, ``enabled``, ``allow_tf32``) can be read and set as in torch
and change nothing, since minitorch's kernels are deterministic CPU code whatever they say.
"""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
