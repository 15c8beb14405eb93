"""The classifier file reader: the one place predict, evaluate and export learn what a file is.

    clf = load_classifier("runs/imagefolder/best.h5")   # a checkpoint, weights or .safetensors
    clf.model          # ResNet-18 in eval mode
    clf.transform      # the eval transform of the run that made the file
    clf.class_names
    clf.predict(["cat.jpg", "dog.png"], topk=3)   # [[("cat", 0.91), ("dog", 0.06), ...], ...]

The eval transform is recorded in the file as root attributes (``transform_attrs`` writes them;
the trainer puts them in every checkpoint): ``image_size``, ``resize`` (``shorter_side``: PIL's
bilinear resize of the shorter edge then a center crop, the image-folder pipeline; ``square``:
the [0, 1] array resized bilinearly to image_size x image_size, the digits and npz pipeline),
``eval_resize`` (the shorter side before the center crop: ``data.eval_resize``, torchvision's
256 for a 224 crop by default; absent in files made before it, which resize to image_size),
``crop``, ``image_mode`` (the PIL mode images are converted to: RGB, or L for grayscale),
``in_channels`` (grayscale is repeated to it), ``mean``, ``std`` and ``class_names``. The steps
are the validation dataset's own, in its order, so one image gives bitwise the same input tensor
here as in validation. Files written before these attributes existed are read from the config
they store (checkpoints, and weights files exported with one); otherwise the reader names what
is missing.
"""
import os

import numpy as np

import minitorch as mt
from minitorch.data.errors import DataError
from minitorch.data.transforms import (CenterCrop, Normalize, Resize, ToTensor, eval_resize_for,
                                       resize_bilinear)
from minitorch.io import read_weights_file
from minitorch.io.yaml_text import YamlInputError, parse_yaml
from minitorch.nn.module import StateDictError

from .config import Config
from .errors import TrainerError

__all__ = ["Classifier", "EvalTransform", "ClassifierFileError", "load_classifier",
           "transform_attrs", "softmax", "stored_eval_resize"]

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


class ClassifierFileError(TrainerError):
    """A file that cannot be used as a classifier (no class names, no transform, bad shapes)."""


def _transform_fields(dataset, image_size, in_channels, eval_resize=None):
    """The transform attributes of a run; ``eval_resize`` None (a file that predates the key)
    resizes the shorter side to image_size itself, as such runs validated."""
    if dataset == "image_folder":
        fields = {"image_size": int(image_size), "resize": "shorter_side", "crop": "center",
                  "image_mode": "RGB", "in_channels": int(in_channels)}
        if eval_resize is not None:
            fields["eval_resize"] = int(eval_resize)
        return fields
    # digits are grayscale repeated to the model's channels; npz images have them already
    mode = "L" if dataset == "digits" else _MODES.get(int(in_channels), "RGB")
    return {"image_size": int(image_size), "resize": "square", "crop": "none",
            "image_mode": mode, "in_channels": int(in_channels)}


def transform_attrs(config, class_names, mean, std) -> dict:
    """The root attributes that record a run's eval transform (see the module docstring)."""
    d = config.data
    resize = d.eval_resize if d.eval_resize is not None else eval_resize_for(d.image_size)
    fields = _transform_fields(d.dataset, d.image_size, config.model.in_channels, resize)
    return {"class_names": [str(c) for c in class_names],
            "mean": [float(v) for v in mean], "std": [float(v) for v in std], **fields}


class EvalTransform:
    """An image (path, PIL image, uint8 HWC array, or float CHW array in [0, 1]) to the model's
    CHW float32 input, exactly as the validation pipeline of the recorded run."""

    def __init__(self, image_size, resize, crop, image_mode, in_channels, mean, std,
                 eval_resize=None):
        if resize not in ("shorter_side", "square") or crop not in ("center", "none"):
            raise ClassifierFileError(f"unknown eval transform resize={resize!r} crop={crop!r}")
        self.image_size, self.resize, self.crop = int(image_size), resize, crop
        if eval_resize is not None and (int(eval_resize) < self.image_size
                                        or resize != "shorter_side"):
            raise ClassifierFileError(f"invalid eval transform eval_resize={eval_resize!r} for "
                                      f"resize={resize!r}, image_size={self.image_size}")
        # the shorter side before the centre crop (None: image_size, files before the key)
        self.eval_resize = None if eval_resize is None else int(eval_resize)
        self.image_mode, self.in_channels = str(image_mode), int(in_channels)
        self.normalize = Normalize(mean, std)
        self.mean, self.std = self.normalize.mean, self.normalize.std

    @property
    def shorter_side(self):
        """The shorter side a photo is resized to before the centre crop."""
        return self.image_size if self.eval_resize is None else self.eval_resize

    def to_attrs(self) -> dict:
        attrs = {"image_size": self.image_size, "resize": self.resize, "crop": self.crop,
                 "image_mode": self.image_mode, "in_channels": self.in_channels,
                 "mean": list(self.mean), "std": list(self.std)}
        if self.eval_resize is not None:
            attrs["eval_resize"] = self.eval_resize
        return attrs

    def __repr__(self):
        resize = "" if self.eval_resize is None else f", eval_resize={self.eval_resize}"
        return (f"EvalTransform(image_size={self.image_size}, resize={self.resize!r}{resize}, "
                f"crop={self.crop!r}, image_mode={self.image_mode!r}, "
                f"in_channels={self.in_channels}, mean={self.mean}, std={self.std})")

    def load_image(self, path):
        """The image file at ``path`` decoded and converted to ``image_mode``; DataError naming
        the file when it does not decode."""
        from PIL import Image
        try:
            with Image.open(path) as img:
                return img.convert(self.image_mode)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise DataError(f"cannot decode image {path}: {exc}") from None

    def __call__(self, image):
        from PIL import Image
        if isinstance(image, (str, os.PathLike)):
            image = self.load_image(image)
        elif isinstance(image, (np.ndarray, mt.Tensor)):
            array = np.asarray(getattr(image, "_data", image))
            if array.dtype.kind == "f":   # already ToTensor's output: CHW in [0, 1]
                return self.arrays(array[None])[0]
            image = Image.fromarray(array)
        if image.mode != self.image_mode:
            image = image.convert(self.image_mode)
        if self.resize == "shorter_side":
            # ImageFolder's pipeline, step by step: PIL resize, ToTensor, crop, normalise
            x = ToTensor()(Resize(self.shorter_side)(image))
            x = CenterCrop(self.image_size)(x) if self.crop == "center" else x
            return self.normalize(self._channels(x[None]))[0]
        return self.arrays(ToTensor()(image)[None])[0]

    def arrays(self, x):
        """An NCHW float batch in [0, 1] to model inputs (the in-memory datasets' pipeline:
        bilinear resize, channel repeat, normalise)."""
        x = np.asarray(x, dtype=np.float32)
        s = self.image_size
        if self.resize == "square":
            if x.shape[-2:] != (s, s):
                x = resize_bilinear(x, (s, s))
        else:
            x = resize_bilinear(x, Resize(self.shorter_side).target(*x.shape[-2:]))
            x = CenterCrop(s)(x) if self.crop == "center" else x
        return self.normalize(self._channels(x))

    def _channels(self, x):
        c = x.shape[1]
        if c == self.in_channels:
            return x
        if c == 1:
            return np.repeat(x, self.in_channels, axis=1)
        raise DataError(f"images with {c} channels for a model with {self.in_channels} input "
                        f"channels")


def softmax(logits):
    """Row-wise softmax of an (N, C) float32 array."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Classifier:
    """A model in eval mode with its eval transform and class names (see ``load_classifier``)."""

    def __init__(self, model, transform, class_names, path=None, attrs=None):
        self.model, self.transform = model.eval(), transform
        self.class_names, self.path = [str(c) for c in class_names], path
        self.attrs = dict(attrs or {})

    def preprocess(self, images):
        """A list of images (paths, PIL images, arrays) to one (N, C, S, S) Tensor."""
        return mt.from_numpy(np.stack([self.transform(im) for im in images]))

    def logits(self, x, tta=None):
        """(N, classes) float32 logits of the input batch ``x``; ``tta="flip"`` gives the mean
        of the softmax of ``x`` and of its mirror image, as log-probabilities."""
        x = x if isinstance(x, mt.Tensor) else mt.from_numpy(np.asarray(x, dtype=np.float32))
        with mt.no_grad():
            out = self.model(x)._data
            if tta is None:
                return out
            if tta != "flip":
                raise ValueError(f"invalid tta {tta!r}: expected None or 'flip'")
            mirrored = self.model(mt.from_numpy(np.ascontiguousarray(x._data[..., ::-1])))._data
        return np.log((softmax(out) + softmax(mirrored)) / 2)

    def probabilities(self, x, tta=None):
        """(N, classes) probabilities of the input batch ``x``."""
        return softmax(self.logits(x, tta))

    def predict(self, images, topk=5, tta=None, batch_size=32):
        """The ``topk`` (class name, probability) pairs of each image, most likely first.

        ``images``: one image or a list (paths, PIL images, arrays), or a 4-D Tensor or array
        already transformed (what ``clf.preprocess`` returns)."""
        k = check_topk(topk, len(self.class_names))
        if isinstance(images, (mt.Tensor, np.ndarray)) and images.ndim == 4:
            batches = [images]   # already transformed
        else:
            if not isinstance(images, (list, tuple)):
                images = [images]
            batches = [self.preprocess(images[i:i + batch_size])
                       for i in range(0, len(images), batch_size)]
        results = []
        for x in batches:
            results.extend(self.top(self.probabilities(x, tta), k))
        return results

    def top(self, probs, k):
        """Each row's ``k`` most likely (class name, probability), ties to the lower index."""
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [[(self.class_names[j], float(row[j])) for j in idx]
                for row, idx in zip(probs, order)]


def check_topk(topk, num_classes):
    """``topk`` capped by the number of classes; ValueError for anything below 1."""
    if isinstance(topk, bool) or not isinstance(topk, (int, np.integer)) or topk < 1:
        raise ValueError(f"invalid topk {topk!r}: must be an integer >= 1")
    return min(int(topk), num_classes)


def stored_eval_resize(raw):
    """A checkpoint's stored config dict with ``data.eval_resize`` set to the image size when
    it predates the key (an image folder), so an old run is evaluated as it validated."""
    data = raw.get("data") if isinstance(raw, dict) else None
    if isinstance(data, dict) and data.get("dataset") == "image_folder" \
            and "eval_resize" not in data and "image_size" in data:
        return {**raw, "data": {**data, "eval_resize": data["image_size"]}}
    return raw


def _stored_config(attrs):
    text = attrs.get("config")
    if not isinstance(text, str):
        return None
    try:
        raw = parse_yaml(text, "the stored config")
    except YamlInputError:
        return None
    return raw if isinstance(raw, dict) else None


def _transform_from(attrs, path, model_channels):
    keys = ("image_size", "resize", "crop", "image_mode", "in_channels")
    fields = {k: attrs[k] for k in keys + ("eval_resize",) if k in attrs}
    if any(k not in fields for k in keys):
        raw = _stored_config(attrs)
        if raw is not None:   # a file made before the transform was recorded: its config
            d, m, default = raw.get("data") or {}, raw.get("model") or {}, Config()
            fields = {**_transform_fields(d.get("dataset", default.data.dataset),
                                          d.get("image_size", default.data.image_size),
                                          m.get("in_channels", model_channels)), **fields}
    missing = [k for k in keys + ("mean", "std") if k not in {**fields, **attrs}]
    if missing:
        raise ClassifierFileError(f"{path} does not record its eval transform (missing "
                                  f"{', '.join(missing)}); re-export it from the checkpoint "
                                  f"that made it (minitorch-export CHECKPOINT OUT.h5)")
    return EvalTransform(mean=attrs["mean"], std=attrs["std"], **fields)


def load_classifier(path) -> Classifier:
    """Read a checkpoint, weights file or .safetensors file into a ``Classifier``."""
    from models.resnet import resnet18, resnet18_arguments   # the zoo sits above the package

    path = os.fspath(path)
    state, attrs, _ = read_weights_file(path)
    try:
        arguments = resnet18_arguments(state)
    except ValueError as exc:
        raise ClassifierFileError(f"{path}: {exc}") from None
    names = attrs.get("class_names")
    if not names:
        raise ClassifierFileError(f"{path} is not a classifier: it records no class names "
                                  f"(a backbone or ImageNet weights file? finetune it on your "
                                  f"classes first)")
    if len(names) != arguments["num_classes"]:
        raise ClassifierFileError(f"{path}: {len(names)} class names for a "
                                  f"{arguments['num_classes']}-class head")
    transform = _transform_from(attrs, path, arguments["in_channels"])
    if transform.in_channels != arguments["in_channels"]:
        raise ClassifierFileError(f"{path}: the transform gives {transform.in_channels} channels "
                                  f"but conv1 takes {arguments['in_channels']}")
    model = resnet18(**arguments)
    try:
        model.load_state_dict(state)
    except StateDictError as error:
        lines = str(error).splitlines()
        raise ClassifierFileError(f"{path} is not a ResNet-18: "
                                  f"{lines[1].strip() if len(lines) > 1 else lines[0]}") from None
    return Classifier(model, transform, names, path=path, attrs=attrs)
