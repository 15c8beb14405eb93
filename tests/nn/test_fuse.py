"""conv_bn: an eval-mode BatchNorm folded into its convolution only when nothing can tell."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.nn.fuse import can_fold, conv_bn
from models import resnet18


def make_pair(seed=0, bias=False):
    mt.manual_seed(seed)
    conv, bn = nn.Conv2d(4, 6, 3, padding=1, bias=bias), nn.BatchNorm2d(6)
    rng = np.random.default_rng(seed)
    with mt.no_grad():
        bn.running_mean.copy_(mt.tensor(rng.standard_normal(6).astype(np.float32)))
        bn.running_var.copy_(mt.tensor(rng.uniform(0.5, 2.0, 6).astype(np.float32)))
        bn.weight.copy_(mt.tensor(rng.standard_normal(6).astype(np.float32)))
        bn.bias.copy_(mt.tensor(rng.standard_normal(6).astype(np.float32)))
    return conv, bn, mt.randn(2, 4, 5, 5)


def freeze(*modules):
    for m in modules:
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)


@pytest.mark.parametrize("bias", [False, True])
def test_folded_equals_conv_then_batch_norm_and_skips_the_batch_norm(bias, monkeypatch):
    conv, bn, x = make_pair(bias=bias)
    freeze(conv, bn)
    expected = bn(conv(x)).numpy()
    monkeypatch.setattr(nn.BatchNorm2d, "forward", lambda self, x: pytest.fail("BN ran"))
    assert can_fold(conv, bn)
    np.testing.assert_allclose(conv_bn(conv, bn, x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_training_mode_is_not_folded_and_updates_running_stats():
    conv, bn, x = make_pair()
    freeze(conv, bn)
    bn.train()
    before = bn.running_mean.numpy().copy()
    assert not can_fold(conv, bn)
    conv_bn(conv, bn, x)
    assert not np.array_equal(bn.running_mean.numpy(), before)


def test_trainable_parameters_are_not_folded_unless_grad_is_off():
    conv, bn, x = make_pair()
    conv.eval(), bn.eval()
    assert not can_fold(conv, bn)  # parameters require grad
    out = conv_bn(conv, bn, x)
    out.sum().backward()
    assert conv.weight.grad is not None and bn.weight.grad is not None
    with mt.no_grad():
        assert can_fold(conv, bn)


def test_hooks_disable_the_fold_and_still_run():
    conv, bn, x = make_pair()
    freeze(conv, bn)
    seen = []
    bn.register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    assert not can_fold(conv, bn)
    conv_bn(conv, bn, x)
    assert seen == [(2, 6, 5, 5)]


def test_changed_statistics_or_weights_refresh_the_folded_weights():
    conv, bn, x = make_pair()
    freeze(conv, bn)
    conv_bn(conv, bn, x)  # fills the cache
    with mt.no_grad():
        bn.running_var.mul_(4.0)
    np.testing.assert_allclose(conv_bn(conv, bn, x).numpy(), bn(conv(x)).numpy(), rtol=1e-5,
                               atol=1e-5)
    other, _, _ = make_pair(seed=1)
    conv.load_state_dict(other.state_dict())
    np.testing.assert_allclose(conv_bn(conv, bn, x).numpy(), bn(conv(x)).numpy(), rtol=1e-5,
                               atol=1e-5)


def test_frozen_resnet_in_eval_mode_matches_the_unfolded_network():
    mt.manual_seed(0)
    model = resnet18(num_classes=3, width=8)
    model.train()
    x = mt.randn(4, 3, 32, 32)
    for _ in range(2):  # non-trivial running statistics
        model(x)
    model.eval()
    unfolded = model(x).detach().numpy()  # parameters require grad: nothing is folded
    freeze(model)
    folded = model(x).numpy()
    np.testing.assert_allclose(folded, unfolded, rtol=1e-4, atol=1e-5 * np.abs(unfolded).max())
    assert not np.array_equal(folded, unfolded)  # the folded path really ran


def test_batch_of_one_is_not_folded_and_keeps_no_folded_weights():
    # at batch 1 the fold's cached weight copy costs more memory than the BatchNorm pass it saves
    from minitorch.nn import fuse
    conv, bn, x = make_pair(seed=3)
    freeze(conv, bn)
    x1 = x[:1]
    np.testing.assert_allclose(conv_bn(conv, bn, x1).numpy(), bn(conv(x1)).numpy(), rtol=1e-6,
                               atol=1e-6)
    assert conv not in fuse._folded
    conv_bn(conv, bn, x)  # batch 2: folded
    assert conv in fuse._folded


def test_batch_of_one_without_a_graph_applies_batch_norm_in_place_bitwise(monkeypatch):
    conv, bn, x = make_pair(seed=4, bias=True)
    freeze(conv, bn)
    x1 = x[:1]
    expected = bn(conv(x1)).numpy()
    monkeypatch.setattr(nn.BatchNorm2d, "forward", lambda self, x: pytest.fail("BN module ran"))
    with mt.no_grad():
        out = conv_bn(conv, bn, x1)
        again = conv_bn(conv, bn, x1)  # the cached per-channel numbers
    np.testing.assert_array_equal(out.numpy(), expected)  # the same kernel and numbers as BN's
    np.testing.assert_array_equal(again.numpy(), expected)
    assert not out.requires_grad and out.grad_fn is None


def test_batch_of_one_in_place_follows_changed_statistics_and_affine_false():
    conv, bn, x = make_pair(seed=5)
    freeze(conv, bn)
    x1 = x[:1]
    with mt.no_grad():
        conv_bn(conv, bn, x1)
        bn.running_mean.add_(1.5)
        bn.weight.mul_(-2.0)
        np.testing.assert_array_equal(conv_bn(conv, bn, x1).numpy(), bn(conv(x1)).numpy())
    bare = nn.BatchNorm2d(6, affine=False)
    freeze(bare)
    with mt.no_grad():
        bare.running_var.fill_(3.0)
        np.testing.assert_array_equal(conv_bn(conv, bare, x1).numpy(), bare(conv(x1)).numpy())


def test_batch_of_one_input_wanting_grad_keeps_the_graph():
    conv, bn, x = make_pair(seed=6)
    freeze(conv, bn)
    x1 = x[:1].clone().requires_grad_(True)
    out = conv_bn(conv, bn, x1)
    assert out.grad_fn is not None and out.grad_fn.name() == "NativeBatchNormBackward0"
    out.sum().backward()
    assert x1.grad is not None and x1.grad.shape == x1.shape


def test_batch_of_one_channel_mismatch_raises_batch_norms_error():
    conv, _, x = make_pair(seed=7)
    wrong = nn.BatchNorm2d(5)
    freeze(conv, wrong)
    with mt.no_grad(), pytest.raises(ValueError, match="BatchNorm2d.*5 channels"):
        conv_bn(conv, wrong, x[:1])


def test_large_weights_over_few_tiles_take_im2col_not_winograd():
    from minitorch.ops.conv_winograd import use_winograd
    geometry = ((1, 1), (1, 1), 1)
    # ResNet-18 at batch 1, 224x224: layer3 (49 tiles) and layer4 (16) by im2col, layer2 Winograd
    assert not use_winograd((1, 256, 14, 14), (256, 256, 3, 3), *geometry, (14, 14))
    assert not use_winograd((1, 512, 7, 7), (512, 512, 3, 3), *geometry, (7, 7))
    assert use_winograd((1, 128, 28, 28), (128, 128, 3, 3), *geometry, (28, 28))
    assert use_winograd((16, 512, 7, 7), (512, 512, 3, 3), *geometry, (7, 7))  # 256 tiles
    assert use_winograd((1, 16, 4, 4), (16, 16, 3, 3), *geometry, (4, 4))  # small weight
