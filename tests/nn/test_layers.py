"""Layer modules: construction, validation, repr, and live parity with torch.nn modules."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


def copy_params_to_torch(torch, ours, theirs):
    """Give the torch module exactly our parameters and buffers."""
    sd = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(sd)


# ----- construction and validation ---------------------------------------------------------

def test_linear_shapes_and_default_init_bounds():
    m = nn.Linear(400, 30)
    assert m.weight.shape == (30, 400) and m.bias.shape == (30,)
    bound = 1 / np.sqrt(400)
    assert np.abs(m.weight.detach().numpy()).max() <= bound and np.abs(m.bias.detach().numpy()).max() <= bound
    assert nn.Linear(3, 2, bias=False).bias is None


def test_conv2d_shapes_and_default_init_bounds():
    m = nn.Conv2d(4, 6, (3, 5), groups=2)
    assert m.weight.shape == (6, 2, 3, 5) and m.bias.shape == (6,)
    bound = 1 / np.sqrt(2 * 15)
    assert np.abs(m.weight.detach().numpy()).max() <= bound and np.abs(m.bias.detach().numpy()).max() <= bound
    assert m.kernel_size == (3, 5) and m.stride == (1, 1) and m.padding == (0, 0)


def test_conv2d_rejects_bad_groups_and_kernel():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(3, 6, (3, 3, 3))


def test_conv2d_input_validation_names_expected_and_actual_shapes():
    m = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"4-D input .* 3 channels, got shape \(2, 1, 8, 8\)"):
        m(mt.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"got shape \(3, 8, 8\)"):
        m(mt.zeros(3, 8, 8))


def test_linear_input_validation_names_expected_and_actual_shapes():
    with pytest.raises(ValueError, match=r"last dimension 5, got shape \(2, 4\)"):
        nn.Linear(5, 3)(mt.zeros(2, 4))


def test_batchnorm_input_validation():
    with pytest.raises(ValueError, match=r"4 channels, got shape \(2, 3, 5, 5\)"):
        nn.BatchNorm2d(4)(mt.zeros(2, 3, 5, 5))


def test_reprs_match_pytorch():
    assert repr(nn.Linear(3, 4)) == "Linear(in_features=3, out_features=4, bias=True)"
    assert repr(nn.Conv2d(3, 8, 3, padding=1, dilation=2, groups=1)) == (
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(2, 2))")
    assert repr(nn.BatchNorm2d(4)) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    assert repr(nn.MaxPool2d(3, 2, 1)) == (
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)")
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.ReLU()) == "ReLU()" and repr(nn.Identity()) == "Identity()"
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_batchnorm_buffers_and_state():
    bn = nn.BatchNorm2d(3)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert bn.num_batches_tracked.detach().numpy().dtype == np.int64
    no_stats = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    assert list(no_stats.state_dict()) == []


# ----- containers ------------------------------------------------------------------------

def test_sequential_indexing_slicing_len_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [n for n, _ in head.named_children()] == ["1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    x = mt.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), layers[2](layers[1](layers[0](x))).detach().numpy())


def test_sequential_setitem_delitem_append():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    seq[1] = nn.Identity()
    assert isinstance(seq[1], nn.Identity)
    del seq[0]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    seq.append(nn.ReLU())
    assert list(seq.state_dict()) == ["1.weight", "1.bias"] and len(seq) == 3


def test_sequential_from_ordered_dict_keeps_names():
    from collections import OrderedDict
    seq = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 1, 1)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["conv.weight", "conv.bias"]
    assert seq[1] is seq.act


def test_module_list_registers_its_modules():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(ml.parameters())) == 6 and len(ml) == 3
    ml.append(nn.Linear(2, 1))
    assert list(ml.state_dict())[-1] == "3.bias"
    assert isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 3


# ----- live parity with torch ------------------------------------------------------------

def test_linear_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(7, 5), torch.nn.Linear(7, 5)
    copy_params_to_torch(torch, ours, theirs)
    x = np.random.default_rng(0).standard_normal((3, 7)).astype(np.float32)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert rel_err(yo.detach().numpy(), yt.detach().numpy()) < 1e-5
    (yo * yo).sum().backward()
    (yt * yt).sum().backward()
    assert rel_err(ours.weight.grad.detach().numpy(), theirs.weight.grad.numpy()) < 1e-5
    assert rel_err(ours.bias.grad.detach().numpy(), theirs.bias.grad.numpy()) < 1e-5
    assert rel_err(xo.grad.detach().numpy(), xt.grad.numpy()) < 1e-5


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), dilation=2, groups=2, bias=False),
    dict(in_channels=2, out_channels=3, kernel_size=1),
])
def test_conv2d_matches_torch_forward_and_backward(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs)
    copy_params_to_torch(torch, ours, theirs)
    x = np.random.default_rng(1).standard_normal((2, kwargs["in_channels"], 9, 8))
    x = x.astype(np.float32)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape)
    assert rel_err(yo.detach().numpy(), yt.detach().numpy()) < 1e-5
    g = np.random.default_rng(2).standard_normal(yo.shape).astype(np.float32)
    yo.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    assert rel_err(ours.weight.grad.detach().numpy(), theirs.weight.grad.numpy()) < 1e-4
    assert rel_err(xo.grad.detach().numpy(), xt.grad.numpy()) < 1e-4
    if ours.bias is not None:
        assert rel_err(ours.bias.grad.detach().numpy(), theirs.bias.grad.numpy()) < 1e-4


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_match_torch_over_several_steps(momentum):
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm2d(3, momentum=momentum)
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum)
    ours.weight.detach().numpy()[:] = [0.5, 1.5, 2.0]
    ours.bias.detach().numpy()[:] = [0.1, -0.2, 0.3]
    copy_params_to_torch(torch, ours, theirs)
    rng = np.random.default_rng(3)
    for step in range(3):
        x = (rng.standard_normal((4, 3, 5, 6)) * 2 + step).astype(np.float32)
        yo, yt = ours(mt.tensor(x)), theirs(torch.tensor(x))
        assert rel_err(yo.detach().numpy(), yt.detach().numpy()) < 1e-5
    for name in ("running_mean", "running_var"):
        assert rel_err(getattr(ours, name).detach().numpy(), getattr(theirs, name).numpy()) < 1e-5
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 3
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    assert rel_err(ours(mt.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy()) < 1e-5
    assert int(ours.num_batches_tracked.item()) == 3  # eval does not count batches


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm2d(2, track_running_stats=False).eval()
    theirs = torch.nn.BatchNorm2d(2, track_running_stats=False).eval()
    x = np.random.default_rng(4).standard_normal((3, 2, 4, 4)).astype(np.float32) + 5
    assert rel_err(ours(mt.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy()) < 1e-5


def test_frozen_batchnorm_in_eval_keeps_its_statistics_bitwise():
    bn = nn.BatchNorm2d(2).requires_grad_(False).eval()
    before = {k: v.detach().numpy().copy() for k, v in bn.state_dict().items()}
    bn(mt.randn(4, 2, 3, 3))
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value.detach().numpy(), before[key])


def test_batchnorm_gradients_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x = np.random.default_rng(5).standard_normal((4, 3, 3, 5)).astype(np.float32)
    g = np.random.default_rng(6).standard_normal((4, 3, 3, 5)).astype(np.float32)
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xo).backward(mt.tensor(g))
    theirs(xt).backward(torch.tensor(g))
    assert rel_err(xo.grad.detach().numpy(), xt.grad.numpy()) < 1e-4
    assert rel_err(ours.weight.grad.detach().numpy(), theirs.weight.grad.numpy()) < 1e-4
    assert rel_err(ours.bias.grad.detach().numpy(), theirs.bias.grad.numpy()) < 1e-4


def test_pooling_flatten_and_activations_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(7).standard_normal((2, 3, 9, 7)).astype(np.float32)
    pairs = [
        (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AdaptiveAvgPool2d((1, 1)), torch.nn.AdaptiveAvgPool2d((1, 1))),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
        (nn.Identity(), torch.nn.Identity()),
    ]
    for ours, theirs in pairs:
        yo, yt = ours(mt.tensor(x)), theirs(torch.tensor(x))
        assert yo.shape == tuple(yt.shape), ours
        assert rel_err(yo.detach().numpy(), yt.numpy()) < 1e-5, ours


def test_relu_inplace_overwrites_its_input():
    x = mt.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(x)
    assert x.tolist() == [0.0, 2.0] and out.tolist() == [0.0, 2.0]


def test_dropout_scales_in_training_and_is_identity_in_eval():
    mt.manual_seed(0)
    d = nn.Dropout(0.25)
    x = mt.ones(1000)
    y = d(x).detach().numpy()
    kept = y != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(d.eval()(x).detach().numpy(), x.detach().numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=1),
    dict(label_smoothing=0.1), dict(weight=[1.0, 2.0, 0.5, 1.0]),
])
def test_cross_entropy_loss_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    target = np.array([0, 1, 2, 3, 1, 0])
    ours_kwargs = dict(kwargs)
    torch_kwargs = dict(kwargs)
    if "weight" in kwargs:
        ours_kwargs["weight"] = mt.tensor(kwargs["weight"])
        torch_kwargs["weight"] = torch.tensor(kwargs["weight"])
    lo, lt = mt.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    yo = nn.CrossEntropyLoss(**ours_kwargs)(lo, mt.tensor(target))
    yt = torch.nn.CrossEntropyLoss(**torch_kwargs)(lt, torch.tensor(target))
    assert rel_err(yo.detach().numpy(), yt.detach().numpy()) < 1e-5
    yo.sum().backward()
    yt.sum().backward()
    assert rel_err(lo.grad.detach().numpy(), lt.grad.numpy()) < 1e-4


def test_nll_and_mse_losses_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    a = rng.standard_normal((5, 3)).astype(np.float32)
    b = rng.standard_normal((5, 3)).astype(np.float32)
    target = np.array([2, 0, 1, 1, 0])
    assert rel_err(nn.MSELoss()(mt.tensor(a), mt.tensor(b)).detach().numpy(),
                   torch.nn.MSELoss()(torch.tensor(a), torch.tensor(b)).numpy()) < 1e-6
    assert rel_err(nn.NLLLoss()(mt.tensor(a), mt.tensor(target)).detach().numpy(),
                   torch.nn.NLLLoss()(torch.tensor(a), torch.tensor(target)).numpy()) < 1e-6


def test_loss_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="invalid reduction 'avg'"):
        nn.MSELoss(reduction="avg")


def test_batchnorm1d_matches_torch_on_2d_and_3d_input():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    for shape in ((6, 3), (4, 3, 5)):
        ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
        x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
        xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        assert rel_err(yo.detach().numpy(), yt.detach().numpy()) < 1e-5
        g = rng.standard_normal(shape).astype(np.float32)
        yo.backward(mt.tensor(g))
        yt.backward(torch.tensor(g))
        assert rel_err(xo.grad.detach().numpy(), xt.grad.numpy()) < 1e-4
        assert rel_err(ours.running_var.detach().numpy(), theirs.running_var.numpy()) < 1e-5
    with pytest.raises(ValueError, match=r"BatchNorm1d: .* got shape \(2, 3, 4, 4\)"):
        nn.BatchNorm1d(3)(mt.zeros(2, 3, 4, 4))


def test_sigmoid_and_tanh_modules():
    x = mt.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(nn.Sigmoid()(x).detach().numpy(), 1 / (1 + np.exp(-x.detach().numpy())), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).detach().numpy(), np.tanh(x.detach().numpy()), rtol=1e-6)


def test_module_dict_registers_under_its_keys():
    md = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    md["head"] = nn.Linear(2, 1)
    assert list(md) == ["enc", "dec", "head"] and "dec" in md and len(md) == 3
    assert list(md.state_dict())[:2] == ["enc.weight", "enc.bias"]
    del md["dec"]
    assert [k for k, _ in md.items()] == ["enc", "head"]
