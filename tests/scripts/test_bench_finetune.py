"""scripts/bench_finetune.py: its synthetic photos, its report and its registration in
benchmark.py (the timed job itself is minutes long and never run here)."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _load(name):
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_photos_are_an_image_folder_of_four_classes(tmp_path):
    bench = _load("bench_finetune")
    root = bench.make_photos(tmp_path / "photos", count=8)
    files = sorted(root.rglob("*.jpg"))
    assert sorted(p.name for p in root.iterdir()) == sorted(bench.CLASSES)
    assert len(files) == 8
    for path in files:
        with Image.open(path) as img:
            assert img.mode == "RGB" and 256 <= min(img.size) and max(img.size) <= 320
    again = bench.make_photos(tmp_path / "again", count=8)   # the same photos every time
    assert all(np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))
               for a, b in zip(files, sorted(again.rglob("*.jpg"))))


def test_the_report_states_the_ratios_against_the_targets():
    bench = _load("bench_finetune")
    result = {"minitorch": {"total": 30.0, "epochs": [10, 5, 2, 2, 2], "load": [1.0, 1.5]},
              "torch": {"total": 60.0, "epochs": [12, 12, 12, 12, 4], "load": [1.5, 2.0]},
              "total_ratio": 0.5, "epoch_ratios": [10 / 12, 5 / 12, 2 / 12, 2 / 12, 0.5]}
    text = bench.format_job(result)
    assert "total 0.50 (target <= 0.6), epochs 3-5 0.17 0.17 0.50" in text
    assert text.endswith("NOT met") and "load 1.0-1.5" in text
    result["epoch_ratios"][4] = 0.3
    assert bench.format_job(result).endswith(": met")


def test_benchmark_py_accepts_the_finetuning_job():
    driver = _load("benchmark")
    args = driver._parse(["--workloads", "f", "--no-torch"])
    assert args.jobs == ["f"] and args.names == []
    assert driver.JOBS["f"] == "bench_finetune"
