"""conv_bn at batch 1 with nothing recorded: kept plans and one epilogue pass, bitwise the ops."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.nn.fuse import conv_bn


def _frozen_pair(C, O, kernel=3, stride=1, seed=0, bias=False):
    mt.manual_seed(seed)
    conv = nn.Conv2d(C, O, kernel, stride=stride, padding=kernel // 2, bias=bias)
    bn = nn.BatchNorm2d(O)
    rng = np.random.default_rng(seed)
    with mt.no_grad():
        bn.running_mean.copy_(mt.tensor(rng.standard_normal(O).astype(np.float32)))
        bn.running_var.copy_(mt.tensor(rng.uniform(0.5, 2.0, O).astype(np.float32)))
        bn.weight.copy_(mt.tensor(rng.standard_normal(O).astype(np.float32)))
        bn.bias.copy_(mt.tensor(rng.standard_normal(O).astype(np.float32)))
    for m in (conv, bn):
        m.eval()
        m.requires_grad_(False)
    return conv, bn


# F(2x2, 3x3), F(4x4, 3x3), im2col (a 7x7 stride-2 stem with a bias, a 1x1 stride 2)
CASES = [(16, 16, 9, 3, 1, False), (64, 64, 16, 3, 1, False), (3, 16, 20, 7, 2, True),
         (16, 32, 8, 1, 2, False)]


@pytest.mark.parametrize("C,O,H,kernel,stride,bias", CASES)
@pytest.mark.parametrize("with_res", [False, True])
def test_equals_the_separate_modules_bitwise_without_calling_them(C, O, H, kernel, stride,
                                                                    bias, with_res,
                                                                    monkeypatch):
    conv, bn = _frozen_pair(C, O, kernel, stride, seed=C + O, bias=bias)
    x = mt.randn(1, C, H, H)
    OH = (H + 2 * (kernel // 2) - kernel) // stride + 1
    res = mt.randn(1, O, OH, OH) if with_res else None
    relu = nn.ReLU(inplace=True)
    with mt.no_grad():
        y = bn(conv(x))
        if with_res:
            y += res
        expected = relu(y).numpy().copy()
    for cls in (nn.Conv2d, nn.BatchNorm2d, nn.ReLU):
        monkeypatch.setattr(cls, "forward", lambda *a: pytest.fail("a module ran"))
    with mt.no_grad():
        first = conv_bn(conv, bn, x, residual=res, relu=relu)
        again = conv_bn(conv, bn, x, residual=res, relu=relu)  # the kept plan
    np.testing.assert_array_equal(first.numpy(), expected)
    np.testing.assert_array_equal(again.numpy(), expected)
    assert not first.requires_grad and first.grad_fn is None
    if with_res:
        assert not np.shares_memory(first.numpy(), res.numpy())  # the residual is only read


def test_follows_weights_and_statistics_changed_in_place():
    conv, bn = _frozen_pair(16, 16, seed=2)
    x = mt.randn(1, 16, 6, 6)
    with mt.no_grad():
        conv_bn(conv, bn, x)
        conv.weight.mul_(-0.5)
        bn.running_mean.add_(1.0)
        np.testing.assert_array_equal(conv_bn(conv, bn, x).numpy(), bn(conv(x)).numpy())


def test_a_hooked_relu_or_a_recorded_residual_leaves_the_path():
    conv, bn = _frozen_pair(16, 16, seed=3)
    x, res = mt.randn(1, 16, 6, 6), mt.randn(1, 16, 6, 6).requires_grad_(True)
    seen = []
    relu = nn.ReLU()
    relu.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with mt.no_grad():
        conv_bn(conv, bn, x, relu=relu)
    assert seen == [(1, 16, 6, 6)]
    out = conv_bn(conv, bn, x, residual=res, relu=nn.ReLU())
    assert out.grad_fn is not None
    out.sum().backward()
    assert res.grad is not None


def test_a_wrong_batch_norm_raises_its_own_error():
    conv, _ = _frozen_pair(16, 16)
    wrong = nn.BatchNorm2d(5).eval()
    with mt.no_grad(), pytest.raises(ValueError, match="BatchNorm2d.*5 channels"):
        conv_bn(conv, wrong, mt.randn(1, 16, 6, 6))


def test_resnet18_batch_one_matches_torch():
    torch = pytest.importorskip("torch")
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from fixtures_resnet import torch_resnet18
    from models import resnet18
    mt.manual_seed(0)
    model = resnet18(num_classes=10).eval()
    ref = torch_resnet18(torch, 10, "imagenet", 64).eval()
    ref.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                         for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    with torch.no_grad():  # non-trivial statistics, so BatchNorm's numbers matter
        for m in ref.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.from_numpy(rng.standard_normal(m.num_features)
                                                      .astype(np.float32) * 0.1))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, m.num_features)
                                                     .astype(np.float32)))
    model.load_state_dict({k: mt.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    x = rng.standard_normal((1, 3, 96, 96)).astype(np.float32)
    with mt.no_grad():
        got = model(mt.tensor(x)).numpy()
    with torch.no_grad():
        expected = ref(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_the_profiler_times_the_batch_one_path_as_an_op_with_its_kernels():
    from minitorch.utils.profile import OpProfiler
    conv, bn = _frozen_pair(16, 16, seed=5)
    x, res = mt.randn(1, 16, 6, 6), mt.randn(1, 16, 6, 6)
    with mt.no_grad():
        conv_bn(conv, bn, x, residual=res, relu=nn.ReLU())
        with OpProfiler() as prof:
            conv_bn(conv, bn, x, residual=res, relu=nn.ReLU())
    assert ("ConvolutionBatch1", "forward") in prof.by_op()
    kernels = {k for _, _, k in prof.by_kernel()}
    # a small output: the epilogue's serial twin (kernels.batch1.SERIAL_BELOW)
    assert "bn_residual_relu_serial_" in kernels and "BLAS matmul" in kernels
