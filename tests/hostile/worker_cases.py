"""Many refused runs in one process (one import instead of one per case), for the hostile suite.

    worker_cases.py CASES.json

CASES: ``[{"name": ..., "argv": [...], "folder": ...}, ...]``. Each case calls
``finetune_main(argv)`` with stderr captured; an exception escaping it is reported as a
traceback. Prints one JSON object: per case the exit code, stderr, and the folder's digest
before and after; and the process's peak memory (a bound on every case's peak).
"""
import contextlib
import io
import json
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from minitorch.train.cli import finetune_main  # noqa: E402
from tests.hostile.run_helpers import folder_digest, own_peak_mb  # noqa: E402


def _run(case):
    before = folder_digest(case["folder"])
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = finetune_main(case["argv"])
        except BaseException:   # noqa: BLE001 - what the CLI would show as a traceback
            code = 1
            err.write(traceback.format_exc())
    return {"returncode": code, "stderr": err.getvalue(), "stdout": out.getvalue(),
            "before": before, "after": folder_digest(case["folder"])}


def main(path):
    cases = json.loads(Path(path).read_text())
    results = {case["name"]: _run(case) for case in cases}
    peak = own_peak_mb()
    print(json.dumps({"results": results, "peak_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1])
