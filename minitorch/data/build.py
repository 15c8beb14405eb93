"""Build the train and validation datasets a config's ``data`` section describes.

One place turns ``data.dataset/root/classes/image_size/val_fraction/mean/std/augment`` into two
datasets, so the trainer and the evaluator split and normalise identically: the split is a
stratified function of (labels, val_fraction, seed), and the validation side never augments
(photos: it resizes to ``data.eval_resize`` before the centre crop, torchvision's policy).
"""
from .dataset import Subset
from .datasets import Digits, ImageFolder, NpzDataset
from .datasets.image_folder import IMAGENET_MEAN, IMAGENET_STD
from .errors import DataError
from .split import stratified_split
from .transforms import Compose, RandomCrop, RandomHorizontalFlip, eval_resize_for

__all__ = ["build_datasets", "augment_transform"]


def augment_transform(image_size, augment):
    """The in-memory augmentation for ``augment`` (random crop, flip), or None when off."""
    steps = []
    if augment.random_crop:
        steps.append(RandomCrop(image_size, augment.padding))
    if augment.horizontal_flip:
        steps.append(RandomHorizontalFlip())
    return Compose(steps) if steps else None


def _eval_resize(data):
    """``data.eval_resize``, null meaning torchvision's policy (256 before a 224 crop)."""
    size = getattr(data, "eval_resize", None)
    return eval_resize_for(data.image_size) if size is None else int(size)


def _make(data, mean, std, in_channels):
    kind, aug = data.dataset, data.augment
    if kind == "digits":
        return Digits(data.classes, data.image_size, mean, std,
                      augment_transform(data.image_size, aug), channels=in_channels)
    if kind == "npz":
        return NpzDataset(data.root, data.classes, data.image_size, mean, std,
                          augment_transform(data.image_size, aug))
    if kind == "image_folder":
        return ImageFolder(data.root, data.classes, data.image_size,
                           IMAGENET_MEAN if mean is None else mean,
                           IMAGENET_STD if std is None else std,
                           random_crop=aug.random_crop, padding=aug.padding,
                           horizontal_flip=aug.horizontal_flip,
                           random_resized_crop=aug.random_resized_crop,
                           color_jitter=aug.color_jitter, rotation=aug.rotation,
                           eval_resize=_eval_resize(data))
    raise DataError(f"unknown dataset {kind!r}: expected digits, image_folder or npz")


def build_datasets(data, seed=0, mean=None, std=None, in_channels=3):
    """(train dataset, val dataset, class names) for a ``DataConfig``.

    mean/std: the config's values win, then the arguments (e.g. from the weights file), then the
    dataset's defaults.
    """
    mean = data.mean if data.mean is not None else mean
    std = data.std if data.std is not None else std
    full = _make(data, mean, std, in_channels)
    train_idx, val_idx = stratified_split(full.targets, data.val_fraction, seed)
    if len(train_idx) == 0:
        raise DataError(f"data.val_fraction {data.val_fraction} leaves no training samples "
                        f"out of {len(full)}")
    if len(val_idx) == 0:
        raise DataError(f"data.val_fraction {data.val_fraction} leaves no validation samples "
                        f"out of {len(full)}")
    evaluation = getattr(full, "for_eval", full.without_augment)()   # photos: eval_resize
    return Subset(full, train_idx), Subset(evaluation, val_idx), full.class_names
