"""The main job end to end on a small scale: pretrained weights in, a frozen backbone that stays
bitwise unchanged, a new head, every output file, the evaluator, and the shipped weights."""
import json
import re

import numpy as np
import pytest
from PIL import Image

import minitorch as mt
from minitorch.train.cli import evaluate_main, finetune_main, warmup_main
from tests.train.helpers import REPO, config_dict, make_weights, write_config

SHIPPED = REPO / "models" / "weights" / "resnet18_small_w16_digits04.h5"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One frozen-backbone finetune (2 epochs, with plots) shared by the tests below."""
    tmp = tmp_path_factory.mktemp("finetune")
    weights = make_weights(tmp / "pretrained.h5",
                           attrs={"class_names": ["0", "1", "2", "3", "4"]})
    out = tmp / "run"
    cfg = config_dict(out, weights, output={"dir": str(out), "plot": True})
    config = write_config(tmp / "config.yaml", cfg)
    code = finetune_main([str(config)])
    assert code == 0
    return {"weights": weights, "out": out, "config": config}


def test_run_writes_every_output(run, capsys):
    out = run["out"]
    for name in ("config.yaml", "metrics.jsonl", "last.h5", "best.h5", "curves.png"):
        assert (out / name).is_file(), name
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    for r in records:
        assert {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"} <= r.keys()
        assert 0.0 <= r["val_acc"] <= 1.0 and r["train_loss"] > 0
    assert records[0]["lr"] == 0.05 and records[1]["lr"] < 0.05   # cosine over 2 epochs
    with Image.open(out / "curves.png") as image:
        assert image.format == "PNG"
    resolved = (out / "config.yaml").read_text()
    assert "freeze: backbone" in resolved and "batch_size: 64" in resolved


def test_frozen_parameters_and_batchnorm_buffers_are_bitwise_unchanged(run):
    pretrained = mt.load(run["weights"])
    trained = mt.load(run["out"] / "last.h5")["model"]
    assert trained.keys() == pretrained.keys()
    for key, value in pretrained.items():
        if key.startswith("fc."):
            continue
        assert trained[key].numpy().tobytes() == value.numpy().tobytes(), key
    # The head was replaced (0-4 -> 5-9) and trained.
    assert not np.array_equal(trained["fc.weight"].numpy(), pretrained["fc.weight"].numpy())


def test_checkpoint_records_what_was_frozen(run):
    ckpt = mt.load(run["out"] / "last.h5")
    assert ckpt["epoch"] == 2 and ckpt["global_step"] == 2 * 12   # 717 samples / 64
    assert len(ckpt["frozen_parameters"]) == 60 and "fc.weight" not in ckpt["frozen_parameters"]
    assert list(ckpt["optimizer"]["state"]) == ["fc.weight", "fc.bias"]
    assert ckpt["extra"]["class_names"] == ["5", "6", "7", "8", "9"]
    assert ckpt["extra"]["mean"] == pytest.approx([0.3])   # from the weights file's attributes


def test_evaluate_reproduces_the_best_validation_accuracy(run, capsys):
    best = run["out"] / "best.h5"
    records = [json.loads(line) for line in (run["out"] / "metrics.jsonl").read_text()
               .splitlines()]
    capsys.readouterr()
    assert evaluate_main([str(best)]) == 0
    text = capsys.readouterr().out
    acc = float(re.search(r"val_acc (\d\.\d+)", text).group(1))
    assert acc == pytest.approx(max(r["val_acc"] for r in records), abs=1e-4)
    matrix = [line.split()[1:] for line in text.splitlines()
              if re.fullmatch(r"\s*[5-9](\s+\d+){5}", line)]   # a class and 5 counts
    assert len(matrix) == 5 and sum(int(v) for row in matrix for v in row) == 179
    assert (run["out"] / "confusion.png").is_file()


def test_final_line_names_best_checkpoint(tmp_path, capsys):
    cfg = config_dict(tmp_path / "out", train={"epochs": 1}, model={"num_classes": 2},
                      data={"classes": [5, 6], "batch_size": 128})
    assert finetune_main([str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("best val_acc ") and last.endswith(str(tmp_path / "out" / "best.h5"))


def test_warmup_compiles_and_reports(capsys):
    assert warmup_main([]) == 0
    assert capsys.readouterr().out.startswith("warmup: numba kernels ready in ")


def test_shipped_weights_carry_provenance_and_recognise_digits_0_to_4():
    from minitorch.data import Digits, stratified_split
    from minitorch.io import load_attrs
    from minitorch.train.config import config_from_yaml
    from models import resnet18
    attrs = load_attrs(SHIPPED)
    assert attrs["class_names"] == ["0", "1", "2", "3", "4"] and attrs["width"] == 16
    assert {"config", "date", "val_acc", "mean", "std", "source"} <= attrs.keys()
    assert config_from_yaml(attrs["config"]).data.classes == [0, 1, 2, 3, 4]
    model = resnet18(num_classes=5, variant="small", width=16, weights=str(SHIPPED)).eval()
    data = Digits([0, 1, 2, 3, 4], 32, attrs["mean"], attrs["std"])
    _, val = stratified_split(data.targets, 0.2, 0)
    x, y = data.get_batch(val)
    with mt.no_grad():
        acc = float(np.mean(model(mt.from_numpy(x)).numpy().argmax(1) == y))
    assert acc >= 0.95


def test_shipped_configs_are_valid():
    from minitorch.train.config import load_config
    for name in ("digits_pretrain", "digits_finetune", "imagefolder_finetune"):
        config = load_config(REPO / "configs" / f"{name}.yaml")
        assert config.model.arch == "resnet18", name
    main = load_config(REPO / "configs" / "digits_finetune.yaml")
    assert (REPO / main.model.weights).resolve() == SHIPPED.resolve()
    assert main.model.freeze == "backbone" and main.data.classes == [5, 6, 7, 8, 9]


def test_the_main_job_reaches_80_percent_with_only_fc_trained(tmp_path, monkeypatch, capsys):
    """configs/digits_finetune.yaml as shipped (only the output folder moved, no plot)."""
    monkeypatch.chdir(REPO)   # the shipped config's paths are relative to the repository
    out = tmp_path / "main"
    assert finetune_main(["configs/digits_finetune.yaml", "--set", f"output.dir={out}",
                          "--set", "output.plot=false"]) == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 10 and max(r["val_acc"] for r in records) >= 0.8
    pretrained, trained = mt.load(SHIPPED), mt.load(out / "last.h5")["model"]
    for key, value in pretrained.items():
        if not key.startswith("fc."):
            assert trained[key].numpy().tobytes() == value.numpy().tobytes(), key
    assert "replaced by a new Linear(128, 5)" in capsys.readouterr().out


def test_export_weights_makes_a_loadable_file_with_provenance(run, tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location("export_weights",
                                                  REPO / "scripts" / "export_weights.py")
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    target = tmp_path / "exported.h5"
    assert export.main([str(run["out"] / "best.h5"), str(target)]) == 0
    from minitorch.io import load_attrs
    from minitorch.train.config import config_from_yaml
    from models import resnet18
    attrs = load_attrs(target)
    assert attrs["class_names"] == ["5", "6", "7", "8", "9"] and attrs["width"] == 4
    assert attrs["mean"] == pytest.approx([0.3]) and 0 <= attrs["val_acc"] <= 1
    assert config_from_yaml(attrs["config"]).model.freeze == "backbone"
    model = resnet18(num_classes=5, variant="small", width=4, weights=str(target))
    best = mt.load(run["out"] / "best.h5")["model"]
    assert model.fc.weight.detach().numpy().tobytes() == best["fc.weight"].numpy().tobytes()


def _drawn_epochs(tmp_path, monkeypatch, every_seconds):
    """The epochs of each curves.png drawing of a 4-epoch run, with drawings at most
    ``every_seconds`` apart."""
    from minitorch.train import trainer as trainer_module
    drawn = []
    monkeypatch.setattr(trainer_module, "plot_curves",
                        lambda records, path, title=None: drawn.append(
                            [r["epoch"] for r in records]))
    monkeypatch.setattr(trainer_module, "_PLOT_EVERY_SECONDS", every_seconds)
    weights = make_weights(tmp_path / "pretrained.h5")
    out = tmp_path / "run"
    cfg = config_dict(out, weights, output={"dir": str(out), "plot": True})
    cfg["train"]["epochs"] = 4
    assert finetune_main([str(write_config(tmp_path / "config.yaml", cfg))]) == 0
    return drawn


def test_a_short_run_draws_its_curves_once_at_the_end(tmp_path, monkeypatch):
    """Drawing curves.png costs about a second: a run that ends within the drawing interval of
    its start draws once, at the end, with every epoch."""
    assert _drawn_epochs(tmp_path, monkeypatch, 3600.0) == [[1, 2, 3, 4]]


def test_a_long_run_redraws_its_curves_as_epochs_end(tmp_path, monkeypatch):
    """Epochs ending after the interval redraw; the end adds no drawing of the same epochs."""
    assert _drawn_epochs(tmp_path, monkeypatch, 0.0) == [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]
