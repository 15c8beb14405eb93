"""Datasets: digits (bundled with scikit-learn), image folders, npz files."""
from .base import InMemoryImageDataset
from .digits import DIGITS_MEAN, DIGITS_STD, Digits
from .image_folder import IMAGENET_MEAN, IMAGENET_STD, IMG_EXTENSIONS, ImageFolder, find_classes
from .npz import NpzDataset, load_npz_arrays

__all__ = ["InMemoryImageDataset", "Digits", "DIGITS_MEAN", "DIGITS_STD", "ImageFolder",
           "IMG_EXTENSIONS", "IMAGENET_MEAN", "IMAGENET_STD", "find_classes", "NpzDataset",
           "load_npz_arrays"]
