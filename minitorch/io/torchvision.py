"""Bring torchvision weights into minitorch: ``.pth`` in, HDF5 weights file out, no torch needed.

    convert_torchvision("resnet18-f37072fd.pth", "resnet18.h5")

The output is a state dict in minitorch's weights layout (DESIGN section 3): float32 tensors
(int64 ``num_batches_tracked``), with root attributes naming the architecture, the number of
classes, the source file and the ImageNet normalisation the weights were trained with.
"""
import os

import numpy as np

from ..tensor import Tensor
from .pth_reader import read_pth
from .serialization import save_state_dict

__all__ = ["read_pth", "convert_torchvision", "resnet18_state_dict_keys", "ArchMismatchError"]

# torchvision's ImageNet preprocessing: every torchvision classification model expects it.
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class ArchMismatchError(ValueError):
    """The .pth does not hold the state dict of the architecture asked for."""


def _bn_keys(prefix):
    return [f"{prefix}.{k}" for k in ("weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked")]


def resnet18_state_dict_keys() -> list:
    """torchvision ResNet-18's 122 state-dict keys, in its order (models/ must not be imported
    from minitorch/, so the layout is spelled out here)."""
    keys = ["conv1.weight", *_bn_keys("bn1")]
    for layer in range(1, 5):
        for block in range(2):
            p = f"layer{layer}.{block}"
            keys += [f"{p}.conv1.weight", *_bn_keys(f"{p}.bn1"),
                     f"{p}.conv2.weight", *_bn_keys(f"{p}.bn2")]
            if layer > 1 and block == 0:
                keys += [f"{p}.downsample.0.weight", *_bn_keys(f"{p}.downsample.1")]
    return keys + ["fc.weight", "fc.bias"]


_MAX_CLASSES = 1_000_000   # rows of a head, far above ImageNet-21k's 21841
_MAX_WIDTH = 4096          # as the finetuning config's model.width


def resnet18_shape(key, width=64, in_channels=3, kernel=7):
    """The shape of ResNet-18's entry ``key`` at base ``width`` (torchvision: 64, 3 input
    channels, a 7x7 stem); the head's rows are None (any class count)."""
    if key == "fc.weight":
        return (None, 8 * width)
    if key == "fc.bias":
        return (None,)
    if key.endswith("num_batches_tracked"):
        return ()
    if key.startswith("conv1.") or key.startswith("bn1."):
        return (width, in_channels, kernel, kernel) if key == "conv1.weight" else (width,)
    layer, block, part = key.split(".")[:3]
    out = width * 2 ** (int(layer[-1]) - 1)
    if not key.endswith(".weight") or ".bn" in key or "downsample.1" in key:
        return (out,)
    if part == "downsample":
        return (out, out // 2, 1, 1)
    first = part == "conv1" and block == "0" and layer != "layer1"
    return (out, out // 2 if first else out, 3, 3)


_ARCH_KEYS = {"resnet18": resnet18_state_dict_keys}
_ARCH_SHAPES = {"resnet18": resnet18_shape}


def _check_shapes(shapes: dict, arch: str, path: str) -> None:
    """Each entry's shape is the architecture's at the width of the file's stem (scaled-down
    variants convert too), checked before any tensor data is read."""
    stem = tuple(shapes["conv1.weight"])
    if len(stem) != 4 or not 1 <= stem[0] <= _MAX_WIDTH or stem[2:] not in ((7, 7), (3, 3)):
        raise ArchMismatchError(f"'{path}' is not a torchvision {arch} state dict: "
                                f"conv1.weight has shape {stem}")
    for key, shape in shapes.items():
        want = _ARCH_SHAPES[arch](key, stem[0], stem[1], stem[2])
        fits = len(shape) == len(want) and all(w is None or w == n for n, w in zip(shape, want))
        if not fits:
            shown = tuple("N" if w is None else w for w in want)
            raise ArchMismatchError(f"'{path}' is not a torchvision {arch} state dict: "
                                    f"{key} has shape {tuple(shape)}, expected {shown}")
        if want and want[0] is None and shape[0] > _MAX_CLASSES:
            raise ArchMismatchError(f"'{path}': {key} declares {shape[0]} classes (more than "
                                    f"{_MAX_CLASSES})")


def _check_arch(sd: dict, arch: str, path: str) -> None:
    """Collect every missing and unexpected key and raise once (num_batches_tracked optional:
    older exports lack it)."""
    if arch not in _ARCH_KEYS:
        raise ValueError(f"unknown arch {arch!r}: expected one of {sorted(_ARCH_KEYS)} or None")
    expected = _ARCH_KEYS[arch]()
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = [k for k in expected if k not in sd and k not in optional]
    unexpected = [k for k in sd if k not in set(expected)]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys ({', '.join(missing[:5])}"
                         f"{', ...' if len(missing) > 5 else ''})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys ({', '.join(unexpected[:5])}"
                         f"{', ...' if len(unexpected) > 5 else ''})")
        raise ArchMismatchError(f"'{path}' is not a torchvision {arch} state dict: "
                                + "; ".join(parts))


def _as_minitorch_dtype(name: str, arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind == "f":
        return arr.astype(np.float32, copy=False)
    if name.endswith("num_batches_tracked") or arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    return arr


def convert_torchvision(in_path, out_path, arch="resnet18") -> dict:
    """Convert a torchvision ``.pth`` into a minitorch weights file (written atomically).

    ``arch="resnet18"`` checks the key layout first and records ``arch``/``num_classes``;
    ``arch=None`` converts any state dict as it is. Returns the root attributes written.
    """
    in_path, out_path = os.fspath(in_path), os.fspath(out_path)
    if arch is not None and arch not in _ARCH_KEYS:
        raise ValueError(f"unknown arch {arch!r}: expected one of {sorted(_ARCH_KEYS)} or None")

    def check(shapes):   # runs before any tensor data is read: a bomb never inflates
        if arch is not None:
            _check_arch(shapes, arch, in_path)
            _check_shapes(shapes, arch, in_path)

    sd = read_pth(in_path, check=check)
    # Tensors, not arrays: a weights file loads back as Tensors (arrays would be marked as such).
    sd = {name: Tensor._new(_as_minitorch_dtype(name, arr)) for name, arr in sd.items()}
    if not sd:
        raise ValueError(f"'{in_path}' holds an empty state dict: nothing to convert")
    attrs = {"source": os.path.basename(in_path)}
    if arch is not None:
        attrs.update(arch=arch, num_classes=int(sd["fc.weight"].shape[0]),
                     mean=IMAGENET_MEAN, std=IMAGENET_STD)
    save_state_dict(sd, out_path, attrs=attrs)
    return attrs
