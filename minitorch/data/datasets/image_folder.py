"""ImageFolder: torchvision's layout, one sub-folder of images per class (root/<class>/<image>).

Classes are the sorted sub-folder names (or the ``classes`` chosen, in the order given); files are
listed recursively in sorted order with extensions png/jpg/jpeg/bmp/gif/webp (any case), each
real file once however many links reach it (symlink loops are an error naming the link). Images
are decoded with Pillow as RGB, their shorter edge resized to ``image_size`` (PIL bilinear, like
torchvision's ``Resize``), then center-cropped, or randomly cropped (after ``padding``) and
optionally flipped when augmenting, and normalised. ``for_eval()`` gives the validation pipeline:
the shorter edge resized to ``eval_resize`` (torchvision's 256 for a 224 crop) then
center-cropped to ``image_size``. The continuous photo augmentations
(``random_resized_crop`` in place of resize-and-crop, ``color_jitter``, ``rotation``) act on the
PIL image before ``ToTensor``, as in torchvision pipelines.
"""
import os

import numpy as np

from ..dataset import Dataset
from ..errors import DataError, DataFileNotFoundError
from ..transforms import (CenterCrop, Compose, Normalize, RandomCrop, RandomHorizontalFlip,
                          Resize, ToTensor)
from ..transforms_photo import ColorJitter, RandomResizedCrop, RandomRotation

__all__ = ["ImageFolder", "IMG_EXTENSIONS", "IMAGENET_MEAN", "IMAGENET_STD", "find_classes"]

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        raise DataError(f"cannot read image folder {path}: {exc.strerror or exc}") from None


def find_classes(root):
    """The sorted class sub-folder names of ``root`` (hidden folders ignored)."""
    if not os.path.exists(root):
        raise DataFileNotFoundError(f"image folder not found: {root}")
    if not os.path.isdir(root):
        raise DataError(f"image folder {root} is not a directory")
    names = [n for n in _listdir(root)
             if not n.startswith(".") and os.path.isdir(os.path.join(root, n))]
    if not names:
        raise DataError(f"image folder {root} has no class sub-folders (expected "
                        "root/<class>/<image>)")
    return names


def _images_in(folder, owners, label):
    """Image files under ``folder``, recursively, in sorted order, each real file once.

    Symbolic links are followed, but by resolved path: a link back to an ancestor folder (a
    loop, which would list the same files forever) is an error naming it; a folder or file
    reached a second time by another path is skipped; a file already taken by another class
    (``owners``: real path -> (label, path)) is an error naming both paths, since it would
    otherwise sit in two classes and could land in both train and validation.
    """
    found, done_dirs = [], set()
    stack = [(iter(_listdir(folder)), folder, (os.path.realpath(folder),))]
    done_dirs.add(stack[0][2][0])
    while stack:
        names, parent, ancestors = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        path = os.path.join(parent, name)
        real = os.path.realpath(path)
        if os.path.isdir(path):
            if real in ancestors:
                raise DataError(f"image folder: symlink loop at {path} (it leads back to "
                                f"{real})")
            if real not in done_dirs:
                done_dirs.add(real)
                stack.append((iter(_listdir(path)), path, ancestors + (real,)))
        elif name.lower().endswith(IMG_EXTENSIONS) and not name.startswith("."):
            owner = owners.setdefault(real, (label, path))
            if owner[0] != label:
                raise DataError(f"image {path} (class {label!r}) is the same file as "
                                f"{owner[1]} (class {owner[0]!r}): a file may be in one "
                                f"class only")
            if owner[1] == path:
                found.append(path)
    return found


def _select(root, available, classes):
    if classes is None:
        return list(available)
    chosen = [str(c) for c in classes]
    if not chosen:
        raise DataError(f"image folder {root}: classes is empty")
    for c in chosen:
        if c not in available:
            raise DataError(f"image folder {root} has no folder for class {c!r}; found: "
                            f"{', '.join(available)}")
    if len(set(chosen)) != len(chosen):
        raise DataError(f"image folder {root}: a class is listed twice in {chosen}")
    return chosen


def decode_image(path):
    """The image at ``path`` as an RGB PIL image; DataError naming the path if it fails."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from None


def _header_hw(path):
    """(height, width) of the image at ``path`` without decoding its pixels."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            return img.height, img.width
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from None


class ImageFolder(Dataset):
    """Labelled images from ``root``; see the module docstring for the pipeline.

    ``transform`` (a Transform taking a PIL image and a generator) replaces the built-in pipeline.
    ``verify=True`` decodes every image now, so a corrupt file is reported before training.
    """

    def __init__(self, root, classes=None, image_size=224, mean=IMAGENET_MEAN,
                 std=IMAGENET_STD, random_crop=False, padding=0, horizontal_flip=False,
                 transform=None, verify=False, random_resized_crop=False, color_jitter=None,
                 rotation=0.0, eval_resize=None):
        self.root = os.fspath(root)
        self.class_names = _select(self.root, find_classes(self.root), classes)
        self.class_to_idx = {c: i for i, c in enumerate(self.class_names)}
        self.samples = self._scan()
        self.targets = np.array([t for _, t in self.samples], dtype=np.int64)
        self.mean, self.std = list(mean), list(std)
        self.image_size = image_size
        # the shorter side for_eval() resizes to (None: image_size itself, the training resize)
        self.eval_resize = eval_resize
        self._photo = (random_resized_crop, color_jitter, rotation)
        self.transform = transform or self._pipeline(image_size, random_crop, padding,
                                                     horizontal_flip, *self._photo)
        self._sizes = {}   # index -> (height, width) of the decoded file, read from its header
        if verify:
            for path, _ in self.samples:
                decode_image(path)

    def _scan(self):
        samples, owners = [], {}
        for name in self.class_names:
            folder = os.path.join(self.root, name)
            files = _images_in(folder, owners, name)
            if not files:
                raise DataError(f"class folder {folder} contains no images "
                                f"({', '.join(IMG_EXTENSIONS)})")
            samples.extend((path, self.class_to_idx[name]) for path in files)
        return samples

    def _pipeline(self, image_size, random_crop, padding, horizontal_flip,
                  random_resized_crop=False, color_jitter=None, rotation=0.0, resize=None):
        steps = [RandomResizedCrop(image_size) if random_resized_crop
                 else Resize(image_size if resize is None else resize)]
        if color_jitter:
            steps.append(ColorJitter(*color_jitter))
        if rotation:
            steps.append(RandomRotation(rotation))
        steps.append(ToTensor())
        if not random_resized_crop:
            steps.append(RandomCrop(image_size, padding) if random_crop
                         else CenterCrop(image_size))
        if horizontal_flip:
            steps.append(RandomHorizontalFlip())
        steps.append(Normalize(self.mean, self.std))
        return Compose(steps)

    @property
    def classes(self):
        return self.class_names

    @property
    def is_random(self):
        return bool(getattr(self.transform, "is_random", False))

    def without_augment(self):
        """The same files with the deterministic pipeline (resize, center crop, normalise)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.transform = clone._pipeline(self.image_size, False, 0, False)
        return clone

    def for_eval(self):
        """The same files with the evaluation pipeline: the shorter side resized to
        ``eval_resize`` (torchvision's Resize(256) before CenterCrop(224)), center crop,
        normalise; the training split's own deterministic pipeline when ``eval_resize`` is
        None."""
        clone = self.without_augment()
        clone.transform = clone._pipeline(self.image_size, False, 0, False,
                                          resize=self.eval_resize)
        return clone

    @property
    def augment_continuous(self):
        """Why the pipeline's outcomes cannot be enumerated (None: they can)."""
        return getattr(self.transform, "continuous", None)

    def view_keys(self, indices, rngs):
        """The augmentation outcome of each sample (``Transform.view_key``), from the files'
        headers alone: samples with equal keys are bitwise equal."""
        return [self.transform.view_key(rngs[k], self._hw(i))
                for k, i in enumerate(np.asarray(indices, dtype=np.int64))]

    def _hw(self, index):
        """(height, width) of the file at ``index``, from its header (kept)."""
        hw = self._sizes.get(int(index))
        if hw is None:
            hw = self._sizes[int(index)] = _header_hw(self.samples[int(index)][0])
        return hw

    def views(self, index, limit):
        """Every view key sample ``index`` can get (``Compose.views``), None when there are
        more than ``limit`` or they cannot be listed (a custom transform, a continuous one)."""
        if not self.is_random:
            return [()]
        if not hasattr(self.transform, "views"):
            return None
        return self.transform.views(self._hw(index), limit)

    def get_views(self, index, keys):
        """(len(keys), 3, S, S): sample ``index`` under each view key, the file decoded once;
        bitwise the images ``get_batch`` makes when its generators draw those keys."""
        image = decode_image(self.samples[int(index)][0])
        views = [self.transform(image, None)] * len(keys) if not self.is_random else \
            self.transform.apply_views(image, keys)
        return np.stack([np.asarray(v, dtype=np.float32) for v in views])

    def __len__(self):
        return len(self.samples)

    def get_item(self, index, rng):
        path, target = self.samples[int(index)]
        return np.asarray(self.transform(decode_image(path), rng), dtype=np.float32), target

    def __getitem__(self, index):
        """One sample; a random pipeline draws from a generator seeded with the index."""
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of length {len(self)}")
        return self.get_item(index % len(self), np.random.default_rng(index % len(self)))

    def get_batch(self, indices, rngs=None):
        """(images (B, 3, S, S) float32, labels (B,) int64): each file decoded once, stacked."""
        indices = np.asarray(indices, dtype=np.int64)
        images = [self.get_item(i, None if rngs is None else rngs[k])[0]
                  for k, i in enumerate(indices)]
        return np.stack(images), self.targets[indices]
