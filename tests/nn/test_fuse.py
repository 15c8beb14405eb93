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
    geometry = ((1, 1), (1, 1), 1, np.float32)
    # ResNet-18 at batch 1, 224x224: layer3 (49 tiles) and layer4 (16) by im2col, layer2 Winograd
    assert not use_winograd((1, 256, 14, 14), (256, 256, 3, 3), *geometry, (14, 14))
    assert not use_winograd((1, 512, 7, 7), (512, 512, 3, 3), *geometry, (7, 7))
    assert use_winograd((1, 128, 28, 28), (128, 128, 3, 3), *geometry, (28, 28))
    assert use_winograd((16, 512, 7, 7), (512, 512, 3, 3), *geometry, (7, 7))  # 256 tiles
    assert use_winograd((1, 16, 4, 4), (16, 16, 3, 3), *geometry, (4, 4))  # small weight


def _frozen_pair(C=16, O=16, seed=4, kernel=3, stride=1):
    mt.manual_seed(seed)
    conv = nn.Conv2d(C, O, kernel, stride=stride, padding=kernel // 2, bias=False)
    bn = nn.BatchNorm2d(O)
    rng = np.random.default_rng(seed)
    with mt.no_grad():
        bn.running_mean.copy_(mt.tensor(rng.standard_normal(O).astype(np.float32)))
        bn.running_var.copy_(mt.tensor(rng.uniform(0.5, 2.0, O).astype(np.float32)))
    freeze(conv, bn)
    return conv, bn


def _hooked(module):
    """The same module with a forward hook: conv_bn then leaves it to the module (unfused)."""
    module.register_forward_hook(lambda *_: None)
    return module


# (C, O, H, kernel, stride): F(2x2, 3x3) (16 channels), F(4x4, 3x3) (64 channels at 16x16),
# and im2col (a 7x7 stride-2 stem, a 1x1)
FUSED_CASES = [(16, 16, 9, 3, 1), (64, 64, 16, 3, 1), (3, 16, 20, 7, 2), (16, 32, 8, 1, 1)]


@pytest.mark.parametrize("C,O,H,kernel,stride", FUSED_CASES)
def test_fused_residual_and_relu_equal_the_separate_ops_bitwise(C, O, H, kernel, stride):
    conv, bn = _frozen_pair(C, O, kernel=kernel, stride=stride)
    x = mt.randn(3, C, H, H)
    OH = (H + 2 * (kernel // 2) - kernel) // stride + 1
    res = mt.randn(3, O, OH, OH)
    fused = conv_bn(conv, bn, x, residual=res, relu=nn.ReLU(inplace=True))
    # a hooked ReLU is run as a module: the folded convolution, then += and relu, unfused
    unfused = conv_bn(conv, bn, x, residual=res, relu=_hooked(nn.ReLU(inplace=True)))
    np.testing.assert_array_equal(fused.numpy(), unfused.numpy())
    assert (fused.numpy() == 0).any() and (fused.numpy() > 0).any()
    reference = nn.functional.relu(bn(conv(x)) + res).numpy()  # BatchNorm not folded
    np.testing.assert_allclose(fused.numpy(), reference, rtol=1e-5, atol=1e-5)
    assert not fused.requires_grad and fused.grad_fn is None


@pytest.mark.parametrize("batch,sliced", [(2, False), (5, False), (5, True)])
def test_fused_max_pool_equals_the_separate_ops_bitwise(batch, sliced, monkeypatch):
    # the stem: conv 7x7/2, folded BN, relu, max-pool 3x3/2 per slice of the batch (the pool
    # on the raw product, before bias and relu); sliced: one image per slice
    if sliced:
        monkeypatch.setattr("minitorch.ops.conv._COLS_BYTES", 1)
    conv, bn = _frozen_pair(3, 16, kernel=7, stride=2)
    x = mt.randn(batch, 3, 37, 30)
    pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    fused = conv_bn(conv, bn, x, relu=nn.ReLU(inplace=True), maxpool=pool)
    unfused = conv_bn(conv, bn, x, relu=nn.ReLU(inplace=True), maxpool=_hooked(
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    assert fused.shape == unfused.shape == (batch, 16, 10, 8)
    np.testing.assert_array_equal(fused.numpy(), unfused.numpy())
    ceil = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
    np.testing.assert_array_equal(conv_bn(conv, bn, x, relu=nn.ReLU(), maxpool=ceil).numpy(),
                                  ceil(nn.functional.relu(conv_bn(conv, bn, x))).numpy())


def test_the_fused_path_leaves_a_max_pool_with_indices_to_the_module():
    conv, bn = _frozen_pair(3, 16, kernel=7, stride=2)
    x = mt.randn(2, 3, 24, 24)
    out, indices = conv_bn(conv, bn, x, maxpool=nn.MaxPool2d(3, 2, 1, return_indices=True))
    assert indices.dtype == mt.int64 and out.shape == indices.shape == (2, 16, 6, 6)


def test_an_input_that_needs_a_gradient_is_not_fused_and_gets_the_right_gradient():
    conv, bn = _frozen_pair()
    x = mt.randn(2, 16, 6, 6, requires_grad=True)
    res = mt.randn(2, 16, 6, 6, requires_grad=True)
    out = conv_bn(conv, bn, x, residual=res, relu=nn.ReLU(inplace=True))
    assert out.grad_fn is not None
    out.sum().backward()
    # relu's mask reaches the residual's gradient: 1 where the output is positive, else 0
    np.testing.assert_array_equal(res.grad.numpy(), (out.detach().numpy() > 0).astype(np.float32))
    assert x.grad is not None and np.abs(x.grad.numpy()).sum() > 0


def test_a_residual_of_another_shape_is_added_by_broadcasting_as_before():
    conv, bn = _frozen_pair()
    x, res = mt.randn(2, 16, 6, 6), mt.randn(16, 1, 1)
    out = conv_bn(conv, bn, x, residual=res, relu=nn.ReLU())
    np.testing.assert_allclose(out.numpy(), nn.functional.relu(bn(conv(x)) + res).numpy(),
                               rtol=1e-5, atol=1e-5)


def test_a_frozen_winograd_convolution_keeps_its_transform_and_not_the_folded_weight():
    from minitorch.nn import fuse
    conv, bn = _frozen_pair(64, 64)
    x = mt.randn(3, 64, 16, 16)
    first = conv_bn(conv, bn, x).numpy()
    fold = fuse._folded[conv]
    assert fold.weight is None and len(fold.transforms) == 1
    # a smaller last batch gets its own plan but shares the transform (the products' rounding
    # may depend on their width, so not bitwise)
    np.testing.assert_allclose(conv_bn(conv, bn, x[:2]).numpy(), first[:2], rtol=1e-5,
                               atol=1e-5)
    assert len(fold.plans) == 2 and len(fold.transforms) == 1
    # the unfused folded path (a hooked ReLU) folds the weight again when it needs it
    hooked = conv_bn(conv, bn, x, relu=_hooked(nn.ReLU()))
    np.testing.assert_array_equal(hooked.numpy(), np.maximum(first, 0))



def test_a_transform_too_large_to_keep_is_made_per_call_from_the_module_weight(monkeypatch):
    # layer4's F(4x4, 3x3) U (37.7 MB each) is not kept: the plan holds the module's own weight
    # and the BatchNorm's scale (no folded copy), and gives bitwise the kept plan's result
    from minitorch.nn import fuse
    from minitorch.ops import conv as conv_ops
    conv, bn = _frozen_pair(64, 64)
    x = mt.randn(2, 64, 16, 16)
    kept = conv_bn(conv, bn, x, relu=nn.ReLU()).numpy()
    assert fuse._folded[conv].plans[tuple(x.shape)].U is not None
    fuse._folded.pop(conv)
    monkeypatch.setattr(conv_ops, "KEEP_U_BYTES", 1024)
    per_call = conv_bn(conv, bn, x, relu=nn.ReLU()).numpy()
    plan = fuse._folded[conv].plans[tuple(x.shape)]
    assert plan.U is None and plan.weight is conv.weight._data and plan.planes == 36
    np.testing.assert_array_equal(per_call, kept)
