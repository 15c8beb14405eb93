"""State dicts in the safetensors format (Hugging Face's and timm's: raw tensors and a JSON
header, no pickle), through the ``safetensors`` package (``pip install minitorch[safetensors]``).

    save_safetensors(model.state_dict(), "model.safetensors", attrs={"class_names": [...]})
    state_dict, attrs = load_safetensors("model.safetensors")

Names are the state dict's own (torchvision's and timm's ResNet-18 use the same ones), so a file
written from ``torchvision.models.resnet18().state_dict()`` loads into ``models.resnet18``.
The header's metadata is a str -> str map: minitorch stores each descriptive attribute (the
weights file's root attributes: class_names, mean, std, image_size, ...) as JSON text and reads
it back as the value; metadata written by others comes back as the plain strings it is.
"""
import json
import os
from collections import OrderedDict

import numpy as np

from ..tensor import Tensor
from .atomic import atomic_write_bytes
from .errors import CorruptFileError

__all__ = ["save_safetensors", "load_safetensors", "is_safetensors_path", "SAFETENSORS_SUFFIX"]

SAFETENSORS_SUFFIX = ".safetensors"


def is_safetensors_path(path) -> bool:
    return os.fspath(path).lower().endswith(SAFETENSORS_SUFFIX)


def _package():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise RuntimeError("reading or writing .safetensors needs the safetensors package: "
                           "pip install 'minitorch[safetensors]'") from None
    return st


def _array(name, value):
    array = np.asarray(getattr(value, "_data", value))
    if array.dtype.kind not in "biuf":
        raise ValueError(f"state dict entry {name!r} is not numeric ({array.dtype})")
    return np.array(array, order="C", copy=None)   # ascontiguousarray would make 0-d 1-d


def save_safetensors(state_dict, path, attrs=None) -> None:
    """Write ``state_dict`` (names -> Tensors or arrays) to ``path`` atomically; ``attrs``
    (JSON-serialisable values) go into the header's metadata."""
    st = _package()
    tensors = {str(name): _array(name, value) for name, value in state_dict.items()}
    if not tensors:
        raise ValueError("not a state dict: it is empty")
    metadata = {"format": "pt"}   # what Hugging Face's loaders expect of a PyTorch state dict
    for key, value in (attrs or {}).items():
        metadata[str(key)] = json.dumps(value)
    atomic_write_bytes(os.fspath(path), st.save(tensors, metadata=metadata))


def _metadata_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_safetensors(path):
    """(OrderedDict name -> Tensor in the file's order, metadata as a dict)."""
    _package()
    from safetensors import safe_open
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: '{path}'")
    try:
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            names = list(f.keys())
            arrays = {name: f.get_tensor(name) for name in names}
    except (OSError, MemoryError):
        raise
    except Exception as exc:   # the package raises its own SafetensorError, a bare Exception
        raise CorruptFileError(f"'{path}': not a readable safetensors file "
                               f"({str(exc).splitlines()[0]})") from None
    state = OrderedDict()
    for name in names:   # the header lists them sorted; load_state_dict matches by name
        array = arrays[name]
        # float32 like every minitorch weights file (torch exports may be half or double)
        state[name] = Tensor._new(array.astype(np.float32) if array.dtype.kind == "f" else array)
    attrs = {k: _metadata_value(v) for k, v in metadata.items() if k != "format"}
    return state, attrs

