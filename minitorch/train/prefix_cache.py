"""The longest frozen prefix of a ResNet, and running a slice of its top-level children.

ResNet-18's forward is its top-level children in order (conv1, bn1, relu, maxpool, layer1..4,
avgpool, a flatten, fc), so the network splits at any child boundary: a frozen prefix whose
output can be computed once, and the rest, which trains on it. A child belongs to the frozen
prefix when none of its parameters requires a gradient, every BatchNorm in it is frozen (eval
mode: running statistics, nothing updated) and it holds no active Dropout; parameter-free
children (relu, maxpool, avgpool) right after frozen ones join the prefix, so ``freeze:
[conv1, bn1]`` caches maxpool's output. ``fc`` never does: something must train.

The trainer asks at the start of every epoch (``frozen_prefix``), so an unfreezing schedule that
makes ``layer3`` trainable at epoch k shrinks the prefix from then on.
"""
from minitorch import nn
from minitorch.nn.fuse import conv_bn

__all__ = ["RESNET_ORDER", "frozen_prefix", "run_children", "suffix_names"]

RESNET_ORDER = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                "avgpool", "fc")


def _is_frozen(name, module, frozen_bn):
    if any(p.requires_grad for p in module.parameters()):
        return False
    for sub, m in module.named_modules():
        full = f"{name}.{sub}" if sub else name
        if isinstance(m, nn.BatchNorm2d) and frozen_bn is not None and full not in frozen_bn:
            return False   # it would update its running statistics in training mode
        if isinstance(m, nn.Dropout) and m.p > 0:
            return False
    return True


def frozen_prefix(model, frozen_bn=None):
    """The names of the longest run of frozen top-level children from the input (see the module
    docstring); ``[]`` when the first one trains or the model is not a torchvision-layout
    ResNet. ``frozen_bn``: the names of the BatchNorm layers kept in eval mode (the freeze
    plan's); None counts a BatchNorm without trainable parameters as frozen."""
    children = list(model.named_children())
    if tuple(n for n, _ in children) != RESNET_ORDER:
        return []
    frozen_bn = None if frozen_bn is None else set(frozen_bn)
    prefix = []
    for name, module in children[:-1]:   # never the head
        if not _is_frozen(name, module, frozen_bn):
            break
        prefix.append(name)
    return prefix


def suffix_names(prefix):
    """The children after ``prefix``, in order."""
    return list(RESNET_ORDER[len(prefix):])


def run_children(model, names, x):
    """The named consecutive children of a ResNet applied to ``x``, exactly as ``forward`` does
    them (conv1 and bn1 through the one ``conv_bn`` call, the flatten after avgpool)."""
    i = 0
    while i < len(names):
        name = names[i]
        if name == "conv1" and i + 1 < len(names) and names[i + 1] == "bn1":
            x, i = conv_bn(model.conv1, model.bn1, x), i + 2
            continue
        x = getattr(model, name)(x)
        if name == "avgpool":
            x = x.flatten(1)
        i += 1
    return x
