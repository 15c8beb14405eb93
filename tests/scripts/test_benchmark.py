"""scripts/benchmark.py on a tiny configuration: its code paths and its JSON, never its timings."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "benchmark.py"
_spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

FRAMEWORK_KEYS = {"median_ms", "min_ms", "steps_ms", "images_per_s", "base_rss_mb",
                  "peak_rss_mb", "first_loss"}


def tiny(name):
    return dict(bench.WORKLOADS[name], **bench.QUICK)


def test_quick_run_against_torch_writes_every_key_and_both_start_from_the_same_loss(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workloads", "c",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert {"machine", "workloads", "quick", "repeats"} <= set(report)
    assert report["machine"]["threads"] == 2 and report["machine"]["torch"]
    assert set(report["workloads"]) == {"c"}
    for name, r in report["workloads"].items():
        assert r["spec"]["width"] == 8 and r["spec"]["batch"] == 2
        for framework in ("minitorch", "torch"):
            assert FRAMEWORK_KEYS <= set(r[framework])
            assert r[framework]["peak_rss_mb"] >= r[framework]["base_rss_mb"] > 0
        assert r["time_ratio"] > 0 and r["best_time_ratio"] > 0 and r["memory_ratio"] > 0
        assert len(r["load_avg_1min"]) == 2
        # identical weights and data went into both: the first losses agree to float32 rounding
        assert r["first_loss_rel_diff"] < 1e-4, (name, r["minitorch"], r["torch"])
    assert "| (c) train step" in proc.stdout


def test_minitorch_alone_has_no_torch_column_and_frozen_step_trains_only_fc():
    result = bench.run_workload(tiny("b"), repeats=2, warmup=1, use_torch=False)
    assert set(result) == {"minitorch"}
    assert len(result["minitorch"]["steps_ms"]) == 2
    assert FRAMEWORK_KEYS <= set(result["minitorch"])
    assert bench._ratios(result) == {}
    table = bench.format_table({"b": dict(title="frozen", **result)})
    assert "| (b) frozen | " in table and "| - |" in table


def test_frozen_step_changes_fc_only():
    import minitorch as mt
    spec = tiny("b")
    step = bench.minitorch_step(spec)
    model = step.model
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    step()
    after = model.state_dict()
    changed = {k for k in before if not (before[k] == after[k].numpy()).all()}
    assert changed == {"fc.weight", "fc.bias"}
    assert isinstance(after["fc.weight"], mt.Tensor)


def test_start_time_of_a_fresh_process_is_measured_in_parts():
    start = bench.start_seconds("minitorch", tiny("c"))  # the default (filled) numba cache
    assert set(start) == {"wall_s", "prewarm_s", "import_build_s", "first_step_s",
                          "second_step_s"}
    assert start["wall_s"] >= start["import_build_s"] + start["first_step_s"] > 0
    assert start["prewarm_s"] < start["wall_s"]  # no warm-up asked for


def test_profile_names_conv_kernels_and_blas():
    text = bench.profile_workload(tiny("c"), steps=1, top=5)
    for needle in ("| Convolution |", "im2col", "BLAS matmul", "outside Functions",
                   "cProfile of one step"):
        assert needle in text


def test_unknown_workload_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--workloads", "a,z"])
    assert exc.value.code == 2
    assert "'z'" in capsys.readouterr().err
