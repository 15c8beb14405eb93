"""Run hostile input through the real entry points in a subprocess and judge the outcome.

Each case must end in exit code 2 with exactly one ``error: ...`` line on stderr, no traceback,
a peak memory (the child's own high-water mark, ``run_helpers.start``) within a bound over the same
entry point's baseline, and nothing in the output folder changed.
"""
from pathlib import Path

import pytest
import yaml

from ..train.helpers import snapshot  # noqa: F401 - the hostile cases' folder check
from .run_helpers import finish, start

REPO = Path(__file__).resolve().parents[2]
MEMORY_BOUND = 300 * 2**20   # bytes over the baseline a hostile file may cost at most


class Outcome:
    def __init__(self, code, stdout, stderr, peak_bytes):
        self.code, self.stdout, self.stderr, self.peak_bytes = code, stdout, stderr, peak_bytes

    def __repr__(self):
        return (f"Outcome(code={self.code}, peak={self.peak_bytes >> 20} MiB, "
                f"stderr={self.stderr[-2000:]!r})")


def run(args, timeout=120, cwd=REPO):
    """``python args...`` with the worktree importable and one thread each for numba and BLAS;
    its exit code, output and peak RSS (``run_helpers.start``/``finish``: the
    child reports its own peak, a timer kills a hang)."""
    proc, files = start(args, cwd=cwd, env={"NUMBA_NUM_THREADS": "1",
                                            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    result = finish(proc, files, timeout)
    return Outcome(result.returncode, result.stdout, result.stderr,
                   int(result.peak_mb * 1024 * 1024))


def assert_one_line_error(outcome, *fragments, baseline=None):
    """Exit 2, one ``error:`` line holding every fragment, no traceback, memory bounded."""
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.stderr, outcome
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    if baseline is not None:
        assert outcome.peak_bytes <= baseline + MEMORY_BOUND, \
            (outcome.peak_bytes >> 20, baseline >> 20, outcome)
    return lines[0]


def tiny_config(out_dir, weights=None, **sections):
    """A digits config that trains in a second: a width-4 small ResNet-18 on 8x8 images."""
    cfg = {"seed": 0,
           "model": {"variant": "small", "width": 4, "weights": weights, "num_classes": 5},
           "data": {"dataset": "digits", "classes": [5, 6, 7, 8, 9], "image_size": 8},
           "train": {"epochs": 1, "feature_cache": "off"},
           "output": {"dir": str(out_dir), "plot": False}}
    for key, value in sections.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    return cfg


def write_yaml(path, cfg):
    Path(path).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return Path(path)


def finetune(config_path, *extra, timeout=120):
    """``minitorch-finetune CONFIG`` from the worktree, in a subprocess."""
    return run(["-m", "minitorch.train.cli", str(config_path), *extra], timeout=timeout)


# Baselines: the peak memory of each entry point failing early, on a missing file. A test module
# that needs one imports the fixture from here.

@pytest.fixture(scope="session")
def finetune_baseline(tmp_path_factory):
    """Peak RSS of minitorch-finetune stopping at a missing weights file (after importing all
    that a run imports before it reads the weights)."""
    folder = tmp_path_factory.mktemp("baseline")
    cfg = write_yaml(folder / "c.yaml", tiny_config(folder / "out",
                                                     weights=str(folder / "none.h5")))
    outcome = finetune(cfg)
    assert outcome.code == 2, outcome
    return outcome.peak_bytes


@pytest.fixture(scope="session")
def convert_baseline(tmp_path_factory):
    """Peak RSS of scripts/convert_torchvision.py stopping at a missing input."""
    folder = tmp_path_factory.mktemp("baseline")
    outcome = run(["scripts/convert_torchvision.py", folder / "none.pth", folder / "out.h5"])
    assert outcome.code == 2, outcome
    return outcome.peak_bytes
