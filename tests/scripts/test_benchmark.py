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

FRAMEWORK_KEYS = {"median_ms", "runs_ms", "peak_rss_mb", "first", "load"}


def tiny(name):
    return dict(bench.WORKLOADS[name], **bench.QUICK)


def test_quick_run_against_torch_writes_every_key_and_both_start_from_the_same_loss(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workloads", "d,e1",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert {"machine", "workloads", "quick", "runs", "busy", "configure"} <= set(report)
    assert report["machine"]["threads"] == 2 and report["machine"]["torch"]
    assert set(report["workloads"]) == {"d", "e1"}
    for name, r in report["workloads"].items():
        assert r["spec"]["width"] == 8 and r["spec"]["batch"] == 2
        for framework in ("minitorch", "torch"):
            assert FRAMEWORK_KEYS <= set(r[framework])
            assert len(r[framework]["runs_ms"]) == 1 and r[framework]["peak_rss_mb"] > 0
        assert r["time_ratio"] > 0 and r["memory_ratio"] > 0
        # identical weights and data went into both: the first loss (or output sum) agrees
        assert r["first_rel_diff"] < 1e-4, (name, r["minitorch"], r["torch"])
    assert "| (d) train step, imagenet stem" in proc.stdout
    assert "| (e1) inference" in proc.stdout


def test_runs_alternate_whole_processes_and_take_the_median(monkeypatch):
    calls = []

    def fake_run(framework, spec, args, weights):
        calls.append(framework)
        ms = {"minitorch": [30, 10, 20], "torch": [40, 40, 50]}[framework]
        ms = ms[calls.count(framework) - 1]
        return dict(ms=ms, first=1.0, peak_rss_mb=100.0 if framework == "torch" else 50.0,
                    load=0.5)

    monkeypatch.setattr(bench, "_run_process", fake_run)
    args = bench._parse(["--workloads", "d", "--runs", "3"])
    r = bench.run_workload(tiny("d"), args, use_torch=True)
    assert calls == ["minitorch", "torch"] * 3
    assert r["minitorch"]["median_ms"] == 20 and r["torch"]["median_ms"] == 40
    assert r["time_ratio"] == 0.5 and r["memory_ratio"] == 0.5
    table = bench.format_table({"d": dict(title="small maps", **r)}, busy=1)
    assert "| (d) small maps | 20 | 40 | 0.50 |" in table and "+1 busy" in table


def test_one_run_in_process_minitorch_alone():
    r = bench.run_once("minitorch", tiny("c"), steps=2, warmup=1, configure=False)
    assert len(r["steps_ms"]) == 2 and r["ms"] > 0 and r["peak_rss_mb"] > 0


def test_frozen_step_changes_fc_only_and_inference_changes_nothing():
    import minitorch as mt
    for name, trained in (("b", {"fc.weight", "fc.bias"}), ("e1", set())):
        step = bench.build_step("minitorch", tiny(name), configure=False)
        model = step.model
        before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        step()
        after = model.state_dict()
        changed = {k for k in before if not (before[k] == after[k].numpy()).all()}
        assert changed == trained, name
        assert isinstance(after["fc.weight"], mt.Tensor)


def test_profile_names_conv_kernels_and_blas():
    text = bench.profile_workload(tiny("c"), steps=1, top=5)
    for needle in ("| Convolution |", "im2col", "BLAS matmul", "outside Functions",
                   "cProfile of one step"):
        assert needle in text


def test_e_means_both_inference_rows_and_unknown_workload_is_a_usage_error(capsys):
    assert bench._parse(["--workloads", "a,e"]).names == ["a", "e1", "e64"]
    with pytest.raises(SystemExit) as exc:
        bench.main(["--workloads", "a,z"])
    assert exc.value.code == 2
    assert "'z'" in capsys.readouterr().err


def test_start_rows_run_a_fresh_clone_that_writes_its_bytecode(monkeypatch):
    """Cold and warm run in one copy of the checkout without bytecode or numba caches, with
    PYTHONDONTWRITEBYTECODE dropped (the warm run loads what the cold one wrote)."""
    seen = []

    def fake_run(cmd, cwd=None, env=None, **kwargs):
        clone = Path(cwd)
        seen.append(dict(cwd=clone, env=env, pycache=sorted(
            str(p.relative_to(clone)) for p in clone.rglob("__pycache__")),
            has_job=(clone / "configs" / "digits_finetune.yaml").is_file()))
        return subprocess.CompletedProcess(cmd, 0, "", "compiling kernels (first run only)...")

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    rows = bench.start_rows()
    assert rows["cold"]["said_compiling"] and len(seen) == 2
    cold, warm = seen
    assert cold["cwd"] == warm["cwd"] != ROOT and cold["has_job"]
    assert cold["pycache"] == [] and not (cold["cwd"] / ".git").exists()
    for run in seen:
        assert "PYTHONDONTWRITEBYTECODE" not in run["env"]
        assert run["env"]["PYTHONPATH"] == str(run["cwd"])
    assert cold["env"]["NUMBA_CACHE_DIR"] == warm["env"]["NUMBA_CACHE_DIR"]
