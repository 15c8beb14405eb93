"""minitorch.data (also ``minitorch.utils.data``): datasets, samplers, the DataLoader, transforms
and train/val splits."""
from .build import augment_transform, build_datasets
from .collate import CollateError, default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset,
                      TensorDataset)
from .datasets import Digits, ImageFolder, InMemoryImageDataset, NpzDataset
from .distributed_sampler import DistributedSampler
from .errors import DataError, DataFileNotFoundError
from .fetch import SampleRngs
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler, epoch_permutation)
from .split import random_split, random_split_indices, stratified_split, train_val_split
from .transforms import (CenterCrop, Compose, Normalize, RandomCrop, RandomHorizontalFlip, Resize,
                         ToTensor, Transform, resize_bilinear)
from .worker import WorkerInfo, get_worker_info

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "DataLoader", "default_collate", "default_convert",
           "get_worker_info", "WorkerInfo", "SampleRngs", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler", "epoch_permutation", "Digits", "ImageFolder", "NpzDataset",
           "InMemoryImageDataset", "DataError", "DataFileNotFoundError", "CollateError",
           "stratified_split", "random_split_indices", "train_val_split", "Transform", "Compose",
           "Resize", "CenterCrop", "RandomCrop", "RandomHorizontalFlip", "Normalize", "ToTensor",
           "resize_bilinear", "build_datasets", "augment_transform"]
