"""minitorch: a small PyTorch-like training framework for the CPU.

    import minitorch as mt
    a = mt.tensor([2., 3.], requires_grad=True)
    (3 * a ** 3).sum().backward()
    a.grad  # tensor([36., 81.])
"""
import importlib

# Importing minitorch changes nothing process-wide (no environment variable, allocator, thread
# count or process): the tuning the kernels were measured with is minitorch.runtime.configure().

from . import accelerator, autograd, backends, cuda
from ._device import DeviceError, device, get_default_device, set_default_device
from ._generator import Generator
from ._size import Size
from .autograd import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                       no_grad, set_grad_enabled)
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, ones, ones_like, rand, rand_like, randint, randn, randn_like,
                       randperm, tensor, tril_indices, triu_indices, zeros, zeros_like)
from ._legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, IntTensor,
                      LongTensor, ShortTensor)
from .dtypes import (bool, dtype, float32, float64, get_default_dtype, int8, int16, int32, int64,
                     uint8)
from ._type_info import finfo, iinfo
from .functions import DECLARED as _DECLARED
from .functions import allclose, equal, is_floating_point, is_tensor, numel
from .random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Tensor

__version__ = "0.1.0"

# PyTorch's aliases.
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
short = int16

# Subpackages load on first use, so `import minitorch` stays fast and light.
_SUBMODULES = ("nn", "optim", "io", "data", "train", "distributed", "utils", "runtime", "linalg")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minitorch' has no attribute {name!r}")


def set_num_threads(n):
    """``torch.set_num_threads``: threads for minitorch's kernels (``runtime.set_num_threads``)."""
    from .runtime import set_num_threads as _set

    _set(n)


def get_num_threads():
    """``torch.get_num_threads``."""
    from .runtime import get_num_threads as _get

    return _get()


def save(obj, path, **kwargs):
    """Save tensors, state dicts and nested containers of them to an HDF5 file (no pickle)."""
    from .io import save as _save

    return _save(obj, path, **kwargs)


def load(path, **kwargs):
    """Load what ``save`` wrote; a state dict comes back as a flat dict of name -> Tensor."""
    from .io import load as _load

    return _load(path, **kwargs)


__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
    "linspace", "eye", "tril_indices", "triu_indices", "rand", "randn", "randint", "randperm",
    "zeros_like", "ones_like",
    "full_like", "empty_like", "rand_like", "randn_like", "manual_seed", "seed", "initial_seed",
    "get_rng_state", "set_rng_state", "dtype", "float32", "float64", "int64", "int32", "int16", "int8",
    "uint8", "bool", "float", "double", "long", "int", "short", "get_default_dtype", "finfo", "iinfo", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "inference_mode", "is_inference_mode_enabled",
    "autograd", "allclose", "equal", "is_floating_point",
    "is_tensor", "numel", "save", "load", "set_num_threads", "get_num_threads", "nn", "optim", "io", "data", "train", "distributed",
    "utils", "runtime", "linalg", "device", "DeviceError", "get_default_device", "set_default_device",
    "Size", "Generator", "cuda", "backends", "accelerator", "FloatTensor", "DoubleTensor",
    "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
]

# The declared ops' mt. functions (minitorch/_ops_*.py, built by functions.py from the registry).
globals().update(_DECLARED)
__all__ += list(_DECLARED)

# einsum takes the equation first (not a tensor), so it is exported here, not declared.
from ._ops_linalg import einsum  # noqa: E402

__all__.append("einsum")
