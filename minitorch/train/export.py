"""``minitorch-export FILE OUT``: a classifier file as ONNX, safetensors or a minitorch weights
file, chosen by OUT's suffix.

- ``.onnx``: the eval graph with BatchNorm folded and a dynamic batch axis, for the image size
  the file records; checked by running it in onnxruntime (when installed) against minitorch.
- ``.safetensors``: the state dict with torchvision's names; the class names and the eval
  transform go into the header's metadata, so predict and evaluate read the file as they read
  the checkpoint.
- ``.h5``: a plain weights file with the same attributes (smaller than a checkpoint: no
  optimizer state).
"""
import os

import numpy as np

from minitorch.io import read_weights_file, save_safetensors, save_state_dict

from .classifier import ClassifierFileError, load_classifier
from .errors import TrainerError

__all__ = ["export_file", "check_onnx", "descriptive_attrs"]

_SUFFIXES = (".onnx", ".safetensors", ".h5", ".hdf5")
_NOT_CARRIED = ("format", "format_version")


def _plain(value):
    """What a weights file's root attribute can hold: a str, a number, a flat list of them
    (metadata of a foreign safetensors file may be anything JSON)."""
    if isinstance(value, (str, int, float)):
        return True
    return isinstance(value, list) and bool(value) and (
        all(isinstance(v, str) for v in value)
        or all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))


def descriptive_attrs(path):
    """(state dict, attributes worth carrying over): the file's own, plus the eval transform
    when it is a classifier (derived from its config for older files)."""
    state, attrs, _ = read_weights_file(path)
    carried = {k: v for k, v in attrs.items() if k not in _NOT_CARRIED and _plain(v)}
    try:
        clf = load_classifier(path)
    except ClassifierFileError:
        return state, carried   # a backbone: its weights and what it says about itself
    carried.update(clf.transform.to_attrs(), class_names=clf.class_names, arch="resnet18",
                   num_classes=len(clf.class_names))
    return state, carried


def check_onnx(onnx_path, clf, batch=2, seed=0):
    """The largest |onnxruntime - minitorch| / max|minitorch| over a random batch, or None when
    onnxruntime is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    t = clf.transform
    x = np.random.default_rng(seed).standard_normal(
        (batch, t.in_channels, t.image_size, t.image_size)).astype(np.float32)
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    want = clf.logits(x)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def export_file(path, output):
    """Write ``path`` as ``output`` (by suffix); returns the line to print."""
    suffix = os.path.splitext(os.fspath(output))[1].lower()
    if suffix not in _SUFFIXES:
        raise TrainerError(f"cannot export to {output}: unknown suffix {suffix or '(none)'!r}; "
                           f"expected {', '.join(_SUFFIXES)}")
    if suffix == ".onnx":
        from minitorch.export import OnnxExportError, export_onnx
        clf = load_classifier(path)
        t = clf.transform
        try:
            export_onnx(clf.model, output, (t.in_channels, t.image_size, t.image_size))
        except OnnxExportError as exc:   # a user error here: one line, exit 2
            raise TrainerError(str(exc)) from None
        error = check_onnx(output, clf)
        checked = "onnxruntime not installed: not checked" if error is None else \
            f"onnxruntime matches minitorch to {error:.1e} (relative)"
        return (f"wrote {output}: input (batch, {t.in_channels}, {t.image_size}, "
                f"{t.image_size}), {len(clf.class_names)} classes, BatchNorm folded; {checked}")
    state, attrs = descriptive_attrs(path)
    attrs.setdefault("source", os.path.basename(os.fspath(path)))
    if suffix == ".safetensors":
        save_safetensors(state, output, attrs=attrs)
    else:
        save_state_dict(state, output, attrs=attrs)
    named = f", {len(attrs['class_names'])} classes" if attrs.get("class_names") else ""
    return f"wrote {output}: {len(state)} tensors{named}"
