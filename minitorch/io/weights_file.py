"""One reader for every file that holds a model's weights: an HDF5 weights file, a training
checkpoint (its ``/model``) or a ``.safetensors`` file.

    state_dict, attrs, kind = read_weights_file(path)

``attrs`` are the descriptive attributes the file carries (a weights file's root attributes, a
checkpoint's root attributes plus its config text and the class names and normalisation in its
``extra``, a safetensors file's metadata); ``kind`` is ``"weights"``, ``"checkpoint"`` or
``"safetensors"``. ``resnet18(weights=...)``, ``model.weights`` in a config and the classifier
reader (predict, evaluate, export) all go through here.
"""
import os
from collections.abc import Mapping

from .checkpoint import load_checkpoint
from .errors import CorruptFileError
from .safetensors import is_safetensors_path, load_safetensors
from .serialization import CHECKPOINT_FORMAT, load, load_attrs

__all__ = ["read_weights_file"]

_FROM_EXTRA = ("class_names", "mean", "std", "num_classes")


def read_weights_file(path, *, allow_nonfinite=False, max_bytes=None):
    """(state dict of Tensors, attrs dict, kind); one-line errors naming the file.

    ``allow_nonfinite`` and ``max_bytes`` are ``load``'s, for a weights file."""
    path = os.fspath(os.path.expanduser(os.fspath(path)))
    if is_safetensors_path(path):
        state, attrs = load_safetensors(path)
        return state, attrs, "safetensors"
    attrs = load_attrs(path)
    if attrs.get("format") == CHECKPOINT_FORMAT:
        ckpt = load_checkpoint(path)
        extra = ckpt.get("extra") or {}
        for key in _FROM_EXTRA:   # checkpoints written before these were root attributes
            if key not in attrs and extra.get(key) is not None:
                attrs[key] = extra[key]
        if ckpt.get("config") is not None:
            attrs.setdefault("config", ckpt["config"])
        return ckpt["model"], attrs, "checkpoint"
    state = load(path, allow_nonfinite=allow_nonfinite, max_bytes=max_bytes)
    if not isinstance(state, Mapping) or not state or \
            not all(hasattr(v, "shape") for v in state.values()):
        raise CorruptFileError(f"'{path}': holds no state dict (a minitorch object file); "
                               f"expected a weights file, a checkpoint or a .safetensors file")
    return state, attrs, "weights"
