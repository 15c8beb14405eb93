"""The environment refuses a write: a read-only folder, a full disk, a file-size limit. Each is
one ``error: cannot write ...`` line, exit code 2, and every file written before is whole
(checkpoints load, config.yaml parses, metrics.jsonl has no torn line, no temporary left).

The read-only and full cases mount a small tmpfs inside ``unshare -rm`` (a private user and
mount namespace); they are skipped where the kernel does not allow that. The file-size limit
(RLIMIT_FSIZE) works everywhere."""
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minitorch as mt
from tests.hostile.run_helpers import (MEMORY_BOUND_MB, Result, assert_one_line, baseline_mb,
                                       environment, finetune, folder_digest, tiny_config)

HERE = Path(__file__).resolve().parent
CLI = ["-m", "minitorch.train.cli"]   # (the worker runs them with this python)



def _namespaces_work():
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


needs_namespaces = pytest.mark.skipif(not _namespaces_work(),
                                      reason="unshare -rm (user + mount namespaces) refused")


def _on_tmpfs(tmp_path, argv, size="4m", source=None, readonly=False):
    """Run ``argv`` with {out} on a private tmpfs; the worker's JSON report."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"mount": str(mount), "size": size, "readonly": readonly,
                                "source": None if source is None else str(source),
                                "argv": [str(a) for a in argv]}))
    proc = subprocess.run(["unshare", "-rm", sys.executable, HERE / "tmpfs_worker.py", spec],
                          capture_output=True, text=True, timeout=600, env=environment())
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    report["result"] = Result(report["returncode"], report["stdout"], report["stderr"],
                              report["peak_mb"])
    return report


@needs_namespaces
def test_read_only_folder_resume_is_one_line_and_changes_nothing(tmp_path, finished):
    config = tiny_config(tmp_path, "unused", epochs=2)
    report = _on_tmpfs(tmp_path, CLI + [config, "--set", "output.dir={out}", "--resume", "auto"],
                       source=finished, readonly=True)
    assert_one_line(report["result"], contains=("cannot write", "Read-only file system"))
    assert report["after"] == report["before"]


@needs_namespaces
def test_evaluate_in_a_read_only_folder_still_prints_its_results(tmp_path, finished):
    code = "import sys; from minitorch.train.cli import evaluate_main; sys.exit(evaluate_main())"
    report = _on_tmpfs(tmp_path, ["-c", code, "{out}/best.h5"],
                       source=finished, readonly=True)
    assert_one_line(report["result"], contains=("confusion.png", "Read-only file system"))
    assert "val_acc" in report["stdout"] and "true \\ predicted" in report["stdout"]
    assert report["after"] == report["before"]


@needs_namespaces
def test_full_disk_is_one_line_and_the_earlier_files_are_whole(tmp_path, finished):
    # Room for config.yaml, metrics.jsonl and one checkpoint, not two: epoch 1's best.h5 fits
    # (its last.h5 is a hard link to it, no room needed), epoch 2's checkpoint does not.
    size = int(os.path.getsize(finished / "last.h5") * 1.5)
    config = tiny_config(tmp_path, "unused", epochs=2)
    report = _on_tmpfs(tmp_path, CLI + [config, "--set", "output.dir={out}"], size=str(size))
    line = assert_one_line(report["result"], contains=("cannot write", "No space left on device"))
    assert "best.h5" in line or "last.h5" in line
    # no temporary left; epoch 1's checkpoint whole under both names
    assert report["files"] == ["best.h5", "config.yaml", "last.h5", "metrics.jsonl"]
    assert all(report["whole"].values()), report["whole"]


def _limit_file_size(limit):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_file_size_limit_is_one_line_and_the_earlier_files_are_whole(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    last = (out / "last.h5").read_bytes()
    best = (out / "best.h5").read_bytes()
    # Big enough for config.yaml and metrics.jsonl, too small for a checkpoint.
    limit = os.path.getsize(out / "last.h5") // 2
    result = finetune(tiny_config(tmp_path, out, epochs=2), "--resume", "auto",
                      preexec_fn=_limit_file_size(limit))
    line = assert_one_line(result, contains=("cannot write", "File too large"))
    assert ".h5" in line
    assert (out / "last.h5").read_bytes() == last and (out / "best.h5").read_bytes() == best
    assert mt.load(out / "last.h5")["epoch"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["best.h5", "config.yaml", "last.h5",
                                                     "metrics.jsonl"]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] in ([1], [1, 2])   # whole lines only


def test_peak_memory_bound_is_meaningful():
    # The bound is relative to a bare import: make sure the baseline itself was measured.
    assert 20 < baseline_mb() < 2000 and MEMORY_BOUND_MB == 300
