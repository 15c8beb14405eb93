"""convert_torchvision and its CLI: torchvision's layout in, torch's numbers out."""
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from minitorch.io import load, load_attrs
from minitorch.io.torchvision import (ArchMismatchError, convert_torchvision,
                                      resnet18_state_dict_keys)
from scripts.fixtures_resnet import torch_resnet18

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "convert_torchvision.py")


def _torch_resnet18(torch, width=16, num_classes=10):
    """torchvision's ResNet-18 (the fixture script's torch.nn rebuild), with random BatchNorm
    statistics so that eval-mode logits test every buffer."""
    torch.manual_seed(0)
    model = torch_resnet18(torch, num_classes=num_classes, variant="imagenet", width=width)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.num_batches_tracked.fill_(3)
    return model.eval()


def test_resnet18_layout_has_torchvisions_122_keys():
    keys = resnet18_state_dict_keys()
    assert len(keys) == 122 and len(set(keys)) == 122
    assert keys[:2] == ["conv1.weight", "bn1.weight"] and keys[-2:] == ["fc.weight", "fc.bias"]
    assert "layer2.0.downsample.0.weight" in keys and "layer1.0.downsample.0.weight" not in keys


def test_resnet18_layout_matches_a_torch_built_resnet():
    torch = pytest.importorskip("torch")
    assert resnet18_state_dict_keys() == list(_torch_resnet18(torch).state_dict())


def test_convert_writes_weights_equal_to_torch(tmp_path):
    torch = pytest.importorskip("torch")
    sd = _torch_resnet18(torch).state_dict()
    torch.save(sd, tmp_path / "resnet18-test.pth")
    attrs = convert_torchvision(tmp_path / "resnet18-test.pth", tmp_path / "r.h5")
    loaded = load(tmp_path / "r.h5")
    assert list(loaded) == list(sd)
    for key, value in sd.items():
        np.testing.assert_array_equal(loaded[key].detach().numpy(), value.numpy(), err_msg=key)
        assert loaded[key].detach().numpy().dtype == (np.int64 if "num_batches" in key else np.float32)
    stored = load_attrs(tmp_path / "r.h5")
    assert stored["arch"] == "resnet18" and stored["num_classes"] == 10
    assert stored["source"] == "resnet18-test.pth" == attrs["source"]
    assert stored["mean"] == pytest.approx([0.485, 0.456, 0.406])


def test_converted_weights_give_torchs_logits(tmp_path):
    torch = pytest.importorskip("torch")
    from models import resnet18

    reference = _torch_resnet18(torch, width=16, num_classes=10)
    torch.save(reference.state_dict(), tmp_path / "r.pth")
    convert_torchvision(tmp_path / "r.pth", tmp_path / "r.h5")
    model = resnet18(num_classes=10, width=16, weights=str(tmp_path / "r.h5")).eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    import minitorch as mt

    with mt.no_grad():
        got = model(mt.from_numpy(x)).numpy()
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_half_precision_export_without_num_batches_tracked_converts(tmp_path):
    torch = pytest.importorskip("torch")
    sd = {k: v.half() if v.is_floating_point() else v
          for k, v in _torch_resnet18(torch).state_dict().items()
          if not k.endswith("num_batches_tracked")}
    torch.save(sd, tmp_path / "old.pth")
    convert_torchvision(tmp_path / "old.pth", tmp_path / "old.h5")
    loaded = load(tmp_path / "old.h5")
    assert len(loaded) == 102
    assert loaded["layer4.1.bn2.running_var"].detach().numpy().dtype == np.float32
    np.testing.assert_array_equal(loaded["fc.bias"].detach().numpy(), sd["fc.bias"].float().numpy())


class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _not_a_resnet(tmp_path):
    """A torch-free .pth (zip layout) holding a dict with no tensors: a wrong-arch file."""
    path = tmp_path / "linear.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
    return path


def test_wrong_architecture_lists_keys_and_writes_nothing(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(3, 2).state_dict(), tmp_path / "lin.pth")
    with pytest.raises(ArchMismatchError, match=r"missing 102 keys \(conv1.weight.*unexpected "
                                                 r"2 keys \(weight, bias\)"):
        convert_torchvision(tmp_path / "lin.pth", tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
    attrs = convert_torchvision(tmp_path / "lin.pth", tmp_path / "out.h5", arch=None)
    assert "arch" not in attrs and sorted(load(tmp_path / "out.h5")) == ["bias", "weight"]


def _run(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=REPO)


def test_cli_converts(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(_torch_resnet18(torch).state_dict(), tmp_path / "in.pth")
    result = _run(tmp_path / "in.pth", tmp_path / "out.h5")
    assert result.returncode == 0, result.stderr
    assert "arch resnet18, 10 classes" in result.stdout
    assert len(load(tmp_path / "out.h5")) == 122


@pytest.mark.parametrize("case", ["missing", "not_pth", "malicious", "wrong_arch"])
def test_cli_errors_are_one_line_exit_2(tmp_path, case):
    marker = tmp_path / "pwned"
    path = tmp_path / "in.pth"
    if case == "not_pth":
        path.write_text("plain text")
    elif case == "malicious":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("archive/data.pkl", pickle.dumps({"w": _RunsCommand(f"touch {marker}")}))
    elif case == "wrong_arch":
        path = _not_a_resnet(tmp_path)
    result = _run(path, tmp_path / "out.h5")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.h5").exists() and not marker.exists()
    expected = {"missing": "no such file", "not_pth": "not a PyTorch file",
                "malicious": "refused to load global 'posix.system'",
                "wrong_arch": "not a torchvision resnet18 state dict"}[case]
    assert expected in result.stderr


def test_full_size_torchvision_resnet18_converts_and_matches(tmp_path):
    # The real use: torchvision's layout at full width with a 1000-class head.
    torch = pytest.importorskip("torch")
    from models import resnet18

    import minitorch as mt

    reference = _torch_resnet18(torch, width=64, num_classes=1000)
    torch.save(reference.state_dict(), tmp_path / "resnet18-full.pth")
    attrs = convert_torchvision(tmp_path / "resnet18-full.pth", tmp_path / "resnet18.h5")
    assert attrs["num_classes"] == 1000
    model = resnet18(weights=str(tmp_path / "resnet18.h5")).eval()
    x = np.random.default_rng(1).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with mt.no_grad():
        got = model(mt.from_numpy(x)).numpy()
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
