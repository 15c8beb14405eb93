"""minitorch.data: datasets, samplers, the DataLoader, transforms and train/val splits."""
from .build import augment_transform, build_datasets
from .dataloader import DataLoader, SampleRngs, default_collate
from .dataset import Dataset, Subset, TensorDataset
from .datasets import Digits, ImageFolder, InMemoryImageDataset, NpzDataset
from .errors import DataError, DataFileNotFoundError
from .sampler import (DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      epoch_permutation)
from .split import random_split_indices, stratified_split, train_val_split
from .transforms import (CenterCrop, Compose, Normalize, RandomCrop, RandomHorizontalFlip, Resize,
                         ToTensor, Transform, resize_bilinear)

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "default_collate", "SampleRngs",
           "Sampler", "SequentialSampler", "RandomSampler", "DistributedSampler",
           "epoch_permutation", "Digits", "ImageFolder", "NpzDataset", "InMemoryImageDataset",
           "DataError", "DataFileNotFoundError", "stratified_split", "random_split_indices",
           "train_val_split", "Transform", "Compose", "Resize", "CenterCrop", "RandomCrop",
           "RandomHorizontalFlip", "Normalize", "ToTensor", "resize_bilinear", "build_datasets",
           "augment_transform"]
