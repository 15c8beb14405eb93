"""The minitorch model zoo: ``from models import resnet18``."""
from models.resnet import (BasicBlock, ResNet, WeightsMismatchError, conv1x1, conv3x3, resnet18,
                           weights_dir)

__all__ = ["BasicBlock", "ResNet", "resnet18", "conv3x3", "conv1x1", "weights_dir",
           "WeightsMismatchError"]
