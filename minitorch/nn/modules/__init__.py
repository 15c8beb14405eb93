"""The layer modules, one family per file."""
from minitorch.nn.modules.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minitorch.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from minitorch.nn.modules.container import ModuleDict, ModuleList, Sequential
from minitorch.nn.modules.conv import Conv2d
from minitorch.nn.modules.dropout import Dropout
from minitorch.nn.modules.flatten import Flatten
from minitorch.nn.modules.linear import Identity, Linear
from minitorch.nn.modules.loss import CrossEntropyLoss, MSELoss, NLLLoss
from minitorch.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = ["Linear", "Identity", "Conv2d", "BatchNorm1d", "BatchNorm2d", "ReLU", "Sigmoid",
           "Tanh", "Softmax", "LogSoftmax", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "Flatten", "Dropout", "Sequential", "ModuleList", "ModuleDict", "CrossEntropyLoss",
           "MSELoss", "NLLLoss"]
