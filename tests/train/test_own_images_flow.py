"""The README's own-images flow on a fresh machine: the converter creates the folder it writes
into, the template reads the weights from the very path the README converts them to, and the
finetuned model predicts."""
import re

import pytest
import yaml

from minitorch.train.cli import finetune_main, predict_main

from .helpers import REPO
from .image_helpers import make_image_folder

TEMPLATE = REPO / "configs" / "imagefolder_finetune.yaml"


def test_readme_and_template_name_the_same_weights_path():
    readme = (REPO / "README.md").read_text()
    converted = set(re.findall(r"convert_torchvision\.py resnet18-f37072fd\.pth (\S+)", readme))
    template = yaml.safe_load(TEMPLATE.read_text())["model"]["weights"]
    assert converted == {template}
    assert f"resnet18-f37072fd.pth {template}" in TEMPLATE.read_text()   # its own step 2


def test_convert_then_finetune_the_template_then_predict(tmp_path, capsys, monkeypatch):
    # In process (the entry points' main()): this test is about the flow; exit codes and
    # tracebacks of the CLI are tests/train/test_cli_errors.py's and tests/hostile's.
    torch = pytest.importorskip("torch")
    from scripts.convert_torchvision import main as convert_main
    from scripts.fixtures_resnet import torch_resnet18
    torch.manual_seed(0)
    # torchvision's layout and key names (random weights, narrow so the test stays quick)
    torch.save(torch_resnet18(torch, 1000, "imagenet", width=8).state_dict(),
               tmp_path / "resnet18-f37072fd.pth")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MINITORCH_HOME", "")
    template = yaml.safe_load(TEMPLATE.read_text())["model"]["weights"]
    assert convert_main([str(tmp_path / "resnet18-f37072fd.pth"), template]) == 0
    weights = tmp_path / "home" / template.replace("~/", "")
    assert weights.is_file()
    images = make_image_folder(tmp_path / "my_images", per_class=3)
    out = tmp_path / "run"
    capsys.readouterr()
    assert finetune_main([str(TEMPLATE), "--set", f"data.root={images}", "--set",
                          "model.width=8", "--set", "data.image_size=32", "--set",
                          "train.epochs=1", "--set", f"output.dir={out}", "--set",
                          "data.batch_size=4"]) == 0
    assert f"weights {template} loaded except fc" in capsys.readouterr().out
    assert predict_main([str(out / "best.h5"), str(images), "--topk", "2"]) == 0
    table = capsys.readouterr().out
    assert len(table.splitlines()) == 1 + 9
