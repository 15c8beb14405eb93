"""``minitorch.utils.data``: PyTorch's path of the data package. The objects are those of
``minitorch.data`` (the same classes, not copies), so either import works."""
from minitorch.data import (BatchSampler, ChainDataset, CollateError, ConcatDataset, DataLoader,
                            Dataset, DistributedSampler, IterableDataset, RandomSampler, Sampler,
                            SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                            WeightedRandomSampler, WorkerInfo, default_collate, default_convert,
                            get_worker_info, random_split)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "DataLoader", "default_collate", "default_convert",
           "get_worker_info", "WorkerInfo", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "DistributedSampler",
           "CollateError"]
