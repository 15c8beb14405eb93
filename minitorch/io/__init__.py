"""minitorch.io: HDF5 state dicts and objects (``save``/``load``), checkpoints, .pth import,
safetensors, and one reader for any file holding a model's weights.

Nothing is ever pickled; .pth files are read with a restricted unpickler (``torchvision.py``).
"""
from .atomic import atomic_copy, atomic_path, atomic_write_bytes, atomic_write_text
from .checkpoint import (OptimizerLoadResult, capture_rng_state, frozen_parameter_names,
                         load_checkpoint, load_optimizer_state_by_name, optimizer_state_by_name,
                         restore_rng_state, save_checkpoint)
from .errors import (CorruptFileError, NonFiniteError, UnsafePickleError, UnsupportedObjectError,
                     WeightsAttributeError)
from .serialization import load, load_attrs, save, save_state_dict
from .safetensors import load_safetensors, save_safetensors
from .torchvision import convert_torchvision, read_pth
from .weights_file import read_weights_file
from .weights_schema import check_weights_attrs

__all__ = ["save", "load", "save_state_dict", "load_attrs",
           "save_checkpoint", "load_checkpoint", "optimizer_state_by_name",
           "load_optimizer_state_by_name", "OptimizerLoadResult", "capture_rng_state",
           "restore_rng_state", "frozen_parameter_names",
           "read_pth", "convert_torchvision", "save_safetensors", "load_safetensors",
           "read_weights_file",
           "atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_copy",
           "CorruptFileError", "UnsupportedObjectError", "UnsafePickleError",
           "NonFiniteError", "WeightsAttributeError", "check_weights_attrs"]
