"""models.resnet: torchvision's names and layout, init, weights loading, and live parity."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.nn.module import StateDictError
from models import ResNet, WeightsMismatchError, resnet18
from scripts.fixtures_resnet import torch_resnet18


def torchvision_resnet18_keys():
    """The 122 state-dict keys of torchvision.models.resnet18(), written out from its layout."""
    def bn(p):
        return [f"{p}.{n}" for n in ("weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked")]
    keys = ["conv1.weight"] + bn("bn1")
    for stage in range(1, 5):
        for block in range(2):
            p = f"layer{stage}.{block}"
            keys += [f"{p}.conv1.weight"] + bn(f"{p}.bn1") + [f"{p}.conv2.weight"] + bn(f"{p}.bn2")
            if stage > 1 and block == 0:
                keys += [f"{p}.downsample.0.weight"] + bn(f"{p}.downsample.1")
    return keys + ["fc.weight", "fc.bias"]


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


# ----- layout and names ------------------------------------------------------------------

def test_default_state_dict_has_torchvision_keys_in_order():
    model = resnet18()
    sd = model.state_dict()
    assert list(sd) == torchvision_resnet18_keys() and len(sd) == 122
    assert sd["conv1.weight"].shape == (64, 3, 7, 7)
    assert sd["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert sd["fc.weight"].shape == (1000, 512)
    assert sum(p.numel() for p in model.parameters()) == 11_689_512


def test_keys_and_shapes_match_a_torch_model_with_torchvision_layout():
    torch = pytest.importorskip("torch")
    ours, theirs = resnet18().state_dict(), torch_resnet18(torch).state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[k].shape == tuple(theirs[k].shape) for k in ours)


def test_small_variant_keeps_the_names_and_scales_width():
    model = resnet18(num_classes=5, variant="small", width=16)
    assert list(model.state_dict())[:-2] == torchvision_resnet18_keys()[:-2]
    assert model.conv1.weight.shape == (16, 3, 3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)
    assert model.fc.weight.shape == (5, 128)
    n_params = sum(p.numel() for p in model.parameters())
    assert 0.6e6 < n_params < 0.8e6


def test_repr_uses_torchvision_names():
    text = repr(resnet18())
    assert text.startswith("ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), "
                           "padding=(3, 3), bias=False)\n")
    assert "(downsample): Sequential(" in text and "(fc): Linear(in_features=512" in text


def test_torchvision_initialisation():
    mt.manual_seed(0)
    model = resnet18(variant="small", width=16)
    w = model.layer3[0].conv1.weight
    fan_out = w.shape[0] * 9
    assert w.detach().numpy().std() == pytest.approx(np.sqrt(2.0 / fan_out), rel=0.1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.detach().numpy() == 1).all() and (m.bias.detach().numpy() == 0).all()
    zero = ResNet(type(model.layer1[0]), [2, 2, 2, 2], width=8, zero_init_residual=True)
    assert all(not b.bn2.weight.detach().numpy().any() for layer in (zero.layer1, zero.layer4)
               for b in layer)


def test_bad_arguments_name_the_culprit():
    with pytest.raises(ValueError, match="invalid variant 'tiny'"):
        resnet18(variant="tiny")
    with pytest.raises(ValueError, match="invalid width 0"):
        resnet18(width=0)
    with pytest.raises(ValueError, match=r"expected 4-D input \(N, 3, H, W\)"):
        resnet18(variant="small", width=4)(mt.zeros(1, 1, 8, 8))


# ----- weights ---------------------------------------------------------------------------

def test_pretrained_without_weights_file_says_how_to_convert(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        resnet18(pretrained=True)
    message = str(info.value)
    expected = tmp_path / "weights" / "resnet18.h5"
    assert str(expected) in message
    assert f"python scripts/convert_torchvision.py resnet18-f37072fd.pth {expected}" in message


def test_default_weights_folder_is_under_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MINITORCH_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        resnet18(pretrained=True)
    assert ("python scripts/convert_torchvision.py resnet18-f37072fd.pth "
            "~/.cache/minitorch/weights/resnet18.h5") in str(info.value)


def test_missing_or_corrupt_weights_files_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        resnet18(weights=str(tmp_path / "nope.h5"))
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    with pytest.raises(ValueError, match="bad.h5"):
        resnet18(weights=str(bad))


def test_torchvision_weights_names_mean_pretrained(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="convert_torchvision.py"):
        resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="needs variant='imagenet'"):
        resnet18(weights="DEFAULT", variant="small")


def test_weights_state_dict_loads_strictly_and_explains_a_head_mismatch():
    source = resnet18(num_classes=10, variant="small", width=8)
    model = resnet18(num_classes=10, variant="small", width=8, weights=source.state_dict())
    np.testing.assert_array_equal(model.fc.weight.detach().numpy(), source.fc.weight.detach().numpy())
    with pytest.raises(WeightsMismatchError, match=r"10-class head.*num_classes=10.*replace"):
        resnet18(num_classes=3, variant="small", width=8, weights=source.state_dict())
    with pytest.raises(StateDictError, match="size mismatch for conv1.weight"):
        resnet18(num_classes=10, variant="small", width=16, weights=source.state_dict())


def test_save_load_round_trip_gives_bitwise_identical_outputs(tmp_path):
    mt.manual_seed(1)
    source = resnet18(num_classes=4, variant="small", width=8)
    path = tmp_path / "w.h5"
    mt.save(source.state_dict(), str(path))
    model = resnet18(num_classes=4, variant="small", width=8, weights=str(path)).eval()
    x = mt.randn(2, 3, 16, 16)
    np.testing.assert_array_equal(model(x).detach().numpy(), source.eval()(x).detach().numpy())


def test_tutorial_finetuning_cells(tmp_path, monkeypatch):
    """The tutorial's cells: pretrained=True, freeze everything, replace fc, only fc learns."""
    monkeypatch.setenv("MINITORCH_HOME", str(tmp_path))
    (tmp_path / "weights").mkdir()
    mt.save(resnet18().state_dict(), str(tmp_path / "weights" / "resnet18.h5"))

    model = resnet18(pretrained=True)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, 10)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight",
                                                                           "fc.bias"]
    out = model(mt.rand(2, 3, 64, 64))
    out.sum().backward()
    assert model.fc.weight.grad is not None and model.fc.bias.grad is not None
    assert all(p.grad is None for n, p in model.named_parameters() if not n.startswith("fc."))


def test_tutorial_sgd_step_changes_only_fc():
    from minitorch import optim
    model = resnet18(variant="small", width=8)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(64, 10)
    model.eval()
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)
    loss = nn.CrossEntropyLoss()(model(mt.rand(4, 3, 16, 16)), mt.tensor([0, 1, 2, 3]))
    loss.backward()
    optimizer.step()
    changed = [k for k, v in model.state_dict().items() if not np.array_equal(v.detach().numpy(), before[k])]
    assert changed == ["fc.weight", "fc.bias"]


# ----- live parity with torch ------------------------------------------------------------

def paired_models(torch, seed=0, variant="small", width=16):
    mt.manual_seed(seed)
    ours = resnet18(num_classes=7, variant=variant, width=width)
    for m in ours.modules():  # non-trivial BN affine params and statistics
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.2, 0.2)
            nn.init.uniform_(m.running_mean, -0.1, 0.1)
            nn.init.uniform_(m.running_var, 0.5, 1.5)
    theirs = torch_resnet18(torch, num_classes=7, variant=variant, width=width)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy()))
                            for k, v in ours.state_dict().items()})
    return ours, theirs


def test_small_resnet_eval_logits_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch)
    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16)).astype(np.float32)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    assert rel_err(ours(mt.tensor(x)).detach().numpy(), expected) < 1e-4


def test_full_width_eval_logits_through_F4x4_and_folded_batch_norm_match_torch():
    # width 64 at 32x32: layer1 (64 channels, 32x32) and layer2 (128, 16x16) run Winograd
    # F(4x4, 3x3), whose float32 error is 8x F(2x2, 3x3)'s; with no_grad the BatchNorms fold
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch, seed=2, variant="small", width=64)
    x = np.random.default_rng(2).standard_normal((2, 3, 32, 32)).astype(np.float32)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    with mt.no_grad():
        assert rel_err(ours(mt.tensor(x)).numpy(), expected) < 1e-4


def test_imagenet_stem_eval_logits_with_fused_stem_pool_and_residuals_match_torch():
    # with no_grad the stem's folded convolution, ReLU and max-pool run fused per batch slice,
    # and each block's residual add and ReLU inside its second convolution's output pass
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch, seed=3, variant="imagenet", width=16)
    x = np.random.default_rng(3).standard_normal((3, 3, 61, 57)).astype(np.float32)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    with mt.no_grad():
        got = ours(mt.tensor(x)).numpy()
    assert rel_err(got, expected) < 1e-4
    # and the frozen-backbone way (parameters frozen, grad mode on): the same fused path
    for p in ours.parameters():
        p.requires_grad_(False)
    np.testing.assert_array_equal(ours(mt.tensor(x)).numpy(), got)


@pytest.mark.parametrize("variant, width, size", [("small", 16, 16), ("imagenet", 64, 64)])
def test_resnet_train_step_matches_torch(variant, width, size):
    """Train-mode loss, every parameter gradient, the input gradient and the BN statistics."""
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch, seed=1, variant=variant, width=width)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, size, size)).astype(np.float32)
    target = np.array([0, 3, 6, 2])
    xo, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = nn.CrossEntropyLoss()(ours(xo), mt.tensor(target))
    lt = torch.nn.CrossEntropyLoss()(theirs(xt), torch.tensor(target))
    assert rel_err(lo.detach().numpy(), lt.detach().numpy()) < 1e-4
    lo.backward()
    lt.backward()
    torch_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert rel_err(p.grad.detach().numpy(), torch_params[name].grad.numpy()) < 2e-3, name
    assert rel_err(xo.grad.detach().numpy(), xt.grad.numpy()) < 2e-3
    torch_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        if "running" in name or "num_batches" in name:
            assert rel_err(value.detach().numpy(), torch_state[name].numpy()) < 1e-4, name
