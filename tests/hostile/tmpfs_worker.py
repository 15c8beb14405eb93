"""Run the CLI with its output folder on a small tmpfs (full, or remounted read-only), inside a
private user and mount namespace (``unshare -rm``: no root needed, nothing leaks out).

    unshare -rm python tmpfs_worker.py SPEC.json

SPEC: ``{"mount": dir, "size": "700k", "source": folder or null, "readonly": bool,
"argv": [...]}``. The source folder is copied to MOUNT/out, the CLI runs with ``argv`` (with
``{out}`` replaced), and one JSON object is printed: returncode, stdout, stderr, peak_mb, the
folder's digest before and after, and which files still load (whole).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.hostile.run_helpers import finish, folder_digest, start  # noqa: E402


def _whole(out):
    """{file: True if it reads back whole} for the run's files."""
    import minitorch as mt
    import yaml
    from minitorch.train.metrics import read_metrics
    state = {}
    for p in sorted(Path(out).iterdir()) if Path(out).exists() else []:
        try:
            if p.suffix == ".h5":
                mt.load(p)
            elif p.name == "config.yaml":
                yaml.safe_load(p.read_text())
            elif p.name == "metrics.jsonl":
                text = p.read_text()
                assert text.count("\n") == len(read_metrics(p))   # no torn line
            state[p.name] = True
        except Exception:   # noqa: BLE001 - any failure means "not whole"
            state[p.name] = False
    return state


def main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    mount = spec["mount"]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={spec['size']}", "tmpfs", mount],
                   check=True)
    out = os.path.join(mount, "out")
    if spec.get("source"):
        shutil.copytree(spec["source"], out)
    if spec.get("readonly"):
        subprocess.run(["mount", "-o", "remount,ro", mount], check=True)
    before = folder_digest(out)
    argv = [a.replace("{out}", out) for a in spec["argv"]]
    result = finish(*start(argv))
    print(json.dumps({"returncode": result.returncode, "stdout": result.stdout,
                      "stderr": result.stderr, "peak_mb": result.peak_mb, "before": before,
                      "after": folder_digest(out), "whole": _whole(out),
                      "files": sorted(os.listdir(out)) if os.path.isdir(out) else None}))


if __name__ == "__main__":
    main(sys.argv[1])
