"""Export a model's eval graph to ONNX with the ``onnx`` package's helper API
(``pip install 'minitorch[onnx]'``).

    export_onnx(model, "model.onnx", input_shape=(3, 224, 224))

The graph is built by walking the modules, not by tracing: a ResNet (torchvision's forward:
stem, residual BasicBlocks, global average pool, flatten, fc) and Sequential stacks of Conv2d,
BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d(1), Flatten, Linear, Dropout and Identity. Every
BatchNorm that follows a convolution is folded into it (the eval-mode affine map of its running
statistics, the same fold ``minitorch.nn.fuse`` applies), so the graph has no BatchNormalization
node for a ResNet. The batch axis is dynamic (``batch``); the image size is fixed. A module the
walker does not know raises ``OnnxExportError`` naming it.
"""
import numpy as np

from minitorch import nn
from minitorch.nn.fuse import fold_batch_norm

__all__ = ["export_onnx", "build_onnx_model", "OnnxExportError", "OPSET"]

OPSET = 17


class OnnxExportError(ValueError):
    """A model (a layer, a setting) that this exporter cannot express in ONNX."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise RuntimeError("ONNX export needs the onnx package: "
                           "pip install 'minitorch[onnx]'") from None
    return onnx


class _Graph:
    """Nodes and initializers as they are emitted, with unique names."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.initializers, self._count = onnx, [], [], 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint, array):
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _conv(g, conv, x, name, bn=None):
    if getattr(conv, "padding_mode", "zeros") != "zeros":
        raise OnnxExportError(f"cannot export {name}: padding_mode {conv.padding_mode!r}")
    padding = _pair(conv.padding)
    if len(padding) != 2:
        raise OnnxExportError(f"cannot export {name}: padding {conv.padding!r}")
    if bn is not None:
        if bn.running_mean is None or bn.running_var is None:
            raise OnnxExportError(f"cannot export {name}: its BatchNorm2d keeps no running "
                                  f"statistics (track_running_stats=False)")
        weight, bias = fold_batch_norm(conv, bn)
    else:
        weight = conv.weight._data
        bias = conv.bias._data if conv.bias is not None else None
    inputs = [x, g.constant(f"{name}.weight", weight)]
    if bias is not None:
        inputs.append(g.constant(f"{name}.bias", bias))
    ph, pw = padding
    return g.node("Conv", inputs, name, kernel_shape=list(conv.kernel_size),
                  strides=list(conv.stride), pads=[ph, pw, ph, pw],
                  dilations=list(conv.dilation), group=int(conv.groups))


def _max_pool(g, pool, x, name):
    if pool.return_indices or _pair(pool.dilation) != (1, 1):
        raise OnnxExportError(f"cannot export {name}: MaxPool2d with return_indices or "
                              f"dilation")
    ph, pw = _pair(pool.padding)
    return g.node("MaxPool", [x], name, kernel_shape=list(_pair(pool.kernel_size)),
                  strides=list(_pair(pool.stride)), pads=[ph, pw, ph, pw],
                  ceil_mode=int(bool(pool.ceil_mode)))


def _linear(g, fc, x, name):
    inputs = [x, g.constant(f"{name}.weight", fc.weight._data)]
    if fc.bias is not None:
        inputs.append(g.constant(f"{name}.bias", fc.bias._data))
    return g.node("Gemm", inputs, name, transB=1)


def _is_conv_bn(a, b):
    return isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d)


def _sequential(g, seq, x, name):
    items = list(seq.named_children())
    i = 0
    while i < len(items):
        child_name, child = items[i]
        if i + 1 < len(items) and _is_conv_bn(child, items[i + 1][1]):
            x = _conv(g, child, x, f"{name}.{child_name}", bn=items[i + 1][1])
            i += 2
            continue
        x = _module(g, child, x, f"{name}.{child_name}" if name else child_name)
        i += 1
    return x


def _basic_block(g, block, x, name):
    out = g.node("Relu", [_conv(g, block.conv1, x, f"{name}.conv1", block.bn1)], f"{name}.relu")
    out = _conv(g, block.conv2, out, f"{name}.conv2", block.bn2)
    identity = x if block.downsample is None else \
        _module(g, block.downsample, x, f"{name}.downsample")
    return g.node("Relu", [g.node("Add", [out, identity], f"{name}.add")], f"{name}.relu")


def _resnet(g, model, x, name):
    x = g.node("Relu", [_conv(g, model.conv1, x, "conv1", model.bn1)], "relu")
    x = _module(g, model.maxpool, x, "maxpool")
    for layer in ("layer1", "layer2", "layer3", "layer4"):
        x = _module(g, getattr(model, layer), x, layer)
    x = _module(g, model.avgpool, x, "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    return _module(g, model.fc, x, "fc")


def _module(g, m, x, name):
    """Emit ``m`` applied to the value named ``x``; the output value's name."""
    from models.resnet import BasicBlock, ResNet   # the model zoo sits above the package
    if type(m) is ResNet:
        return _resnet(g, m, x, name)
    if type(m) is BasicBlock:
        return _basic_block(g, m, x, name)
    if type(m) is nn.Sequential:
        return _sequential(g, m, x, name)
    if isinstance(m, (nn.Identity, nn.Dropout)):
        return x   # eval mode: dropout is the identity
    if type(m) is nn.ReLU:
        return g.node("Relu", [x], name)
    if type(m) is nn.Conv2d:
        return _conv(g, m, x, name)
    if type(m) is nn.MaxPool2d:
        return _max_pool(g, m, x, name)
    if type(m) is nn.AdaptiveAvgPool2d and _pair(m.output_size) == (1, 1):
        return g.node("GlobalAveragePool", [x], name)
    if type(m) is nn.Flatten and m.start_dim == 1 and m.end_dim == -1:
        return g.node("Flatten", [x], name, axis=1)
    if type(m) is nn.Linear:
        return _linear(g, m, x, name)
    raise OnnxExportError(f"cannot export layer {name or '<model>'} ({type(m).__name__}) to "
                          f"ONNX: only ResNet/BasicBlock and Sequential stacks of Conv2d, "
                          f"BatchNorm2d after a Conv2d, ReLU, MaxPool2d, AdaptiveAvgPool2d(1), "
                          f"Flatten, Linear, Dropout and Identity are supported")


def build_onnx_model(model, input_shape, output_names=("logits",)):
    """The ONNX ModelProto of ``model``'s eval graph for inputs (batch, *input_shape)."""
    onnx = _onnx()
    helper = onnx.helper
    g = _Graph(onnx)
    out = _module(g, model, "input", "")
    g.nodes.append(helper.make_node("Identity", [out], [output_names[0]], name="output"))
    c, h, w = (int(v) for v in input_shape)
    graph = helper.make_graph(
        g.nodes, "minitorch", [helper.make_tensor_value_info(
            "input", onnx.TensorProto.FLOAT, ["batch", c, h, w])],
        [helper.make_tensor_value_info(output_names[0], onnx.TensorProto.FLOAT,
                                       ["batch", None])],
        initializer=g.initializers)
    proto = helper.make_model(graph, producer_name="minitorch",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = 8   # readable by every onnxruntime since 1.10
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, path, input_shape):
    """Write ``model``'s eval graph (BatchNorm folded, dynamic batch) to ``path``."""
    from minitorch.io.atomic import atomic_write_bytes
    proto = build_onnx_model(model, input_shape)
    atomic_write_bytes(path, proto.SerializeToString())
    return path
