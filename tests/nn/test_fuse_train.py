"""conv_bn in training: BatchNorm2d then ReLU as one node, bitwise the separate modules."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.nn.fuse import conv_bn


def make(seed=0):
    mt.manual_seed(seed)
    conv, bn = nn.Conv2d(3, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5)
    rng = np.random.default_rng(seed)
    with mt.no_grad():
        bn.weight.copy_(mt.tensor(rng.standard_normal(5).astype(np.float32)))
        bn.bias.copy_(mt.tensor(rng.standard_normal(5).astype(np.float32)))
    x = mt.tensor(rng.standard_normal((4, 3, 6, 6)).astype(np.float32), requires_grad=True)
    g = mt.tensor(rng.standard_normal((4, 5, 6, 6)).astype(np.float32))
    return conv, bn, x, g


def run(fused, hook=None, inplace=True):
    """Output, gradients and running statistics of relu(bn(conv(x))), fused by conv_bn or not."""
    conv, bn, x, g = make()
    relu = nn.ReLU(inplace=inplace)
    if hook is not None:
        hook(conv, bn, relu)
    out = conv_bn(conv, bn, x, relu=relu) if fused else relu(bn(conv(x)))
    out.backward(g)
    arrays = [out.detach().numpy(), x.grad.numpy(), conv.weight.grad.numpy(),
              bn.weight.grad.numpy(), bn.bias.grad.numpy(), bn.running_mean.numpy(),
              bn.running_var.numpy()]
    return out.grad_fn.name(), [a.copy() for a in arrays]


def test_fused_batch_norm_relu_equals_the_separate_modules_bitwise():
    name, fused = run(True)
    separate_name, separate = run(False)
    assert run(True, inplace=False)[0] == name
    assert name == "NativeBatchNormBackward0"  # the ReLU ran inside the BatchNorm node
    assert separate_name != name
    for a, b in zip(fused, separate):
        np.testing.assert_array_equal(a, b)
    assert (fused[0] == 0).mean() > 0.2  # the mask mattered


@pytest.mark.parametrize("hook", [
    lambda conv, bn, relu: relu.register_forward_hook(lambda m, i, o: None),
    lambda conv, bn, relu: bn.register_forward_pre_hook(lambda m, i: None),
    lambda conv, bn, relu: relu.register_full_backward_hook(lambda m, gi, go: None),
    lambda conv, bn, relu: bn.register_full_backward_hook(lambda m, gi, go: None),
])
def test_hooks_on_either_module_keep_the_separate_nodes(hook):
    # (an in-place ReLU after a full backward hook raises, as in PyTorch: not in place here)
    name, fused = run(True, hook, inplace=False)
    separate_name, separate = run(False, hook, inplace=False)
    assert name == separate_name != "NativeBatchNormBackward0"
    for a, b in zip(fused, separate):
        np.testing.assert_array_equal(a, b)


def test_a_residual_keeps_the_separate_add_and_relu():
    conv, bn, x, g = make()
    res = mt.randn(4, 5, 6, 6)
    out = conv_bn(conv, bn, x, residual=res, relu=nn.ReLU(inplace=True))
    assert out.grad_fn.name() != "NativeBatchNormBackward0"


def test_fused_forward_turns_negative_zero_into_positive_zero_as_relu():
    # relu_forward writes +0.0 for -0.0; the fused kernel must too (bias -0.0 keeps a -0.0)
    bn = nn.BatchNorm2d(1)
    with mt.no_grad():
        bn.weight.copy_(mt.tensor([0.0]))
        bn.bias.copy_(mt.tensor([-0.0]))
    x = mt.randn(2, 1, 3, 3)
    out = bn._forward(x, relu=True).detach().numpy()
    assert not np.signbit(out).any()
    np.testing.assert_array_equal(out.view(np.int32), nn.ReLU()(bn(x)).detach().numpy().view(np.int32))
