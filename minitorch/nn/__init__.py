"""``minitorch.nn``: Module, Parameter, layers, losses, ``functional`` and ``init``."""
from minitorch.nn import functional, init, utils
from minitorch.nn.module import Module
from minitorch.nn.modules import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d,
                                  CrossEntropyLoss, Dropout, Flatten, Identity, Linear,
                                  LogSoftmax, MaxPool2d, ModuleDict, ModuleList, MSELoss, NLLLoss,
                                  ReLU, Sequential, Sigmoid, Softmax, Tanh)
from minitorch.nn.parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "ReLU",
           "Sigmoid", "Tanh", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Dropout",
           "Identity", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss", "MSELoss",
           "NLLLoss", "Softmax", "LogSoftmax", "functional", "init", "utils"]
