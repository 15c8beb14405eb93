"""ResNet-18 with torchvision's exact module names, so torchvision state dicts load unchanged.

Layout (torchvision's): conv1, bn1, relu, maxpool, layer1..layer4 (two BasicBlocks each, with
conv1/bn1/relu/conv2/bn2 and, where the shape changes, downsample = Sequential(conv1x1, BN)),
avgpool, fc: 122 state-dict keys at the default.

Two extensions for small images and small budgets, neither of which changes any name:
- ``variant="small"``: conv1 is a 3x3 stride-1 convolution and ``maxpool`` is an ``Identity``
  (kept under the name ``maxpool``, so the model's attributes and repr keep torchvision's shape;
  Identity has no state, so the state-dict keys are exactly the ImageNet variant's).
- ``width``: the stage widths are width, 2*width, 4*width, 8*width (64 is torchvision's).
"""
import os
from pathlib import Path

from minitorch import nn
from minitorch.nn.fuse import conv_bn
from minitorch.nn.module import StateDictError

__all__ = ["BasicBlock", "ResNet", "resnet18", "conv3x3", "conv1x1", "weights_dir",
           "WeightsMismatchError", "resnet18_arguments"]

_PRETRAINED_FILE = "resnet18.h5"
_TORCHVISION_FILE = "resnet18-f37072fd.pth"
_TORCHVISION_URL = "https://download.pytorch.org/models/" + _TORCHVISION_FILE
_TORCHVISION_NAMES = ("DEFAULT", "IMAGENET1K_V1")  # torchvision's weights enum, as strings


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding (no bias: a BatchNorm follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution (the projection of a downsampling shortcut)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual shortcut: relu(bn2(conv2(relu(bn1(conv1 x)))) + x)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1, norm_layer=None):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise ValueError("dilation > 1 is not supported in BasicBlock")
        norm_layer = norm_layer or nn.BatchNorm2d
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        # conv_bn(conv, bn, x) is bn(conv(x)), folded into one convolution when both are frozen
        # and BN is in eval mode (see minitorch.nn.fuse)
        # and, with nothing recorded, the ReLU and the residual add run inside the convolution
        identity = x if self.downsample is None else _conv_bn_sequential(self.downsample, x)
        out = conv_bn(self.conv1, self.bn1, x, relu=self.relu)
        # relu(bn2(conv2(out)) + identity), the add in place as torchvision's
        return conv_bn(self.conv2, self.bn2, out, residual=identity, relu=self.relu)


def _conv_bn_sequential(seq, x):
    """``seq(x)`` for a shortcut; a plain Sequential(Conv2d, BatchNorm2d) goes through conv_bn."""
    if isinstance(seq, nn.Sequential) and len(seq) == 2 and isinstance(seq[0], nn.Conv2d) \
            and isinstance(seq[1], nn.BatchNorm2d) and not seq._forward_hooks \
            and not seq._forward_pre_hooks:
        return conv_bn(seq[0], seq[1], x)
    return seq(x)


class ResNet(nn.Module):
    """torchvision's ResNet for BasicBlock, plus the ``variant``/``width``/``in_channels`` knobs."""

    def __init__(self, block, layers, num_classes: int = 1000, zero_init_residual: bool = False,
                 norm_layer=None, variant: str = "imagenet", width: int = 64,
                 in_channels: int = 3):
        super().__init__()
        _check_arguments(layers, num_classes, variant, width, in_channels)
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.variant = variant
        if variant == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3,
                                   bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1,
                                   bias=False)
        self.bn1 = self._norm_layer(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = (nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
                        if variant == "imagenet" else nn.Identity())
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _init_weights(self, zero_init_residual: bool) -> None:
        """torchvision's init: He normal (fan_out, relu) convs, BN weight 1 and bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            # Each residual branch starts as zero, so each block starts as the identity.
            for m in self.modules():
                if isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       self._norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, norm_layer=self._norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, norm_layer=self._norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.conv1.in_channels:
            raise ValueError(f"ResNet: expected 4-D input (N, {self.conv1.in_channels}, H, W), "
                             f"got shape {tuple(x.shape)}")
        x = conv_bn(self.conv1, self.bn1, x, relu=self.relu, maxpool=self.maxpool)
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            if type(layer) is nn.Sequential and not layer._forward_hooks \
                    and not layer._forward_pre_hooks:
                # block by block, rebinding x: calling the Sequential would keep its input
                # (here and in its call's arguments) alive through all its blocks, one more
                # activation at the peak (51 MB at batch 64 under no_grad)
                for block in layer:
                    x = block(x)
            else:
                x = layer(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.fc(x)


def _check_arguments(layers, num_classes, variant, width, in_channels) -> None:
    if variant not in ("imagenet", "small"):
        raise ValueError(f"invalid variant {variant!r}: expected 'imagenet' or 'small'")
    for name, value in (("num_classes", num_classes), ("width", width),
                        ("in_channels", in_channels)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"invalid {name} {value!r}: must be an int >= 1")
    if len(layers) != 4 or any(n < 1 for n in layers):
        raise ValueError(f"invalid layers {layers!r}: expected 4 block counts >= 1")


class WeightsMismatchError(StateDictError):
    """A weights file whose classifier head has a different number of classes than the model."""

    def __init__(self, path, error: StateDictError):
        RuntimeError.__init__(self, _head_mismatch_message(path, error))
        self.missing_keys, self.unexpected_keys = error.missing_keys, error.unexpected_keys
        self.mismatched = error.mismatched


def _head_mismatch_message(path, error) -> str:
    shapes = {key: (src, dst) for key, src, dst in error.mismatched}
    file_classes, model_classes = shapes["fc.weight"][0][0], shapes["fc.weight"][1][0]
    return (f"weights file {path} has a {file_classes}-class head (fc.weight "
            f"{shapes['fc.weight'][0]}) but the model was built with num_classes={model_classes}:"
            f" load it with resnet18(num_classes={file_classes}, weights=...) and then replace "
            f"the head, e.g. model.fc = nn.Linear(model.fc.in_features, {model_classes})")


def _only_head_differs(error: StateDictError) -> bool:
    keys = {key for key, _, _ in error.mismatched}
    return (not error.missing_keys and not error.unexpected_keys
            and "fc.weight" in keys and keys <= {"fc.weight", "fc.bias"})


def weights_dir() -> Path:
    """Where pretrained weights live: ``$MINITORCH_HOME/weights``, default
    ``~/.cache/minitorch/weights``."""
    home = os.environ.get("MINITORCH_HOME") or os.path.join("~", ".cache", "minitorch")
    return Path(os.path.expanduser(home)) / "weights"


def _pretrained_path() -> Path:
    path = weights_dir() / _PRETRAINED_FILE
    if path.is_file():
        return path
    shown = str(path)
    home = os.path.expanduser("~")
    if shown.startswith(home + os.sep):
        shown = "~" + shown[len(home):]
    raise FileNotFoundError(
        f"pretrained ResNet-18 weights not found at {path}; download torchvision's "
        f"{_TORCHVISION_FILE} ({_TORCHVISION_URL}) and convert it with: "
        f"python scripts/convert_torchvision.py {_TORCHVISION_FILE} {shown}")


def _load_weights(model: ResNet, weights) -> None:
    """Load a weights file, a checkpoint (its model), a .safetensors file (torchvision's and
    timm's names) or a state dict, strictly, explaining a head mismatch."""
    from minitorch.io import read_weights_file  # imported late: only weight loading needs it

    state_dict = read_weights_file(weights)[0] if isinstance(weights, (str, os.PathLike)) \
        else weights
    try:
        model.load_state_dict(state_dict)
    except StateDictError as error:
        if _only_head_differs(error):
            raise WeightsMismatchError(weights if isinstance(weights, (str, os.PathLike))
                                       else "<state dict>", error) from None
        raise


def resnet18_arguments(state_dict) -> dict:
    """The ``resnet18`` keyword arguments (num_classes, variant, width, in_channels) that a
    ResNet-18 state dict was made with, read from the shapes of conv1 and fc."""
    missing = [k for k in ("conv1.weight", "fc.weight") if k not in state_dict]
    if missing:
        raise ValueError(f"not a ResNet-18 state dict: no {missing[0]}")
    conv1, fc = tuple(state_dict["conv1.weight"].shape), tuple(state_dict["fc.weight"].shape)
    if len(conv1) != 4 or conv1[-1] not in (3, 7) or len(fc) != 2:
        raise ValueError(f"not a ResNet-18 state dict: conv1.weight {conv1}, fc.weight {fc}")
    return {"num_classes": fc[0], "variant": "imagenet" if conv1[-1] == 7 else "small",
            "width": conv1[0], "in_channels": conv1[1]}


def _is_torchvision_weights_name(weights) -> bool:
    return weights in _TORCHVISION_NAMES and not os.path.exists(weights)


def resnet18(num_classes: int = 1000, weights=None, variant: str = "imagenet", width: int = 64,
             in_channels: int = 3, pretrained: bool = False, **kwargs) -> ResNet:
    """ResNet-18 (torchvision's names); ``weights`` is a path (an HDF5 weights file, a
    checkpoint, whose model is taken, or a ``.safetensors`` file) or a state dict;
    ``pretrained=True`` (or torchvision's ``weights="IMAGENET1K_V1"``/``"DEFAULT"``) loads
    ``resnet18.h5`` from ``weights_dir()``."""
    if pretrained and weights is not None:
        raise ValueError("pass either pretrained=True or weights=PATH, not both")
    if _is_torchvision_weights_name(weights):
        pretrained = True  # torchvision's spelling: resnet18(weights="IMAGENET1K_V1")
    if pretrained and (variant, width, in_channels) != ("imagenet", 64, 3):
        raise ValueError(f"pretrained=True loads torchvision's ImageNet ResNet-18, which needs "
                         f"variant='imagenet', width=64, in_channels=3; got variant={variant!r},"
                         f" width={width}, in_channels={in_channels}")
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, variant=variant,
                   width=width, in_channels=in_channels, **kwargs)
    if pretrained:
        weights = _pretrained_path()  # FileNotFoundError with the conversion command
    if weights is not None:
        _load_weights(model, weights)
    return model
