"""Exact resume: 1 epoch + resume to 2 equals 2 epochs bitwise, and a run SIGKILLed at any of
the moments that matter resumes from its last whole checkpoint with every epoch in
metrics.jsonl exactly once (and the same final weights as a run never interrupted)."""
import json
from pathlib import Path

import pytest

import minitorch as mt
from minitorch.train.cli import finetune_main
from tests.train.helpers import (assert_bitwise_equal, checkpoint_arrays, config_dict, run_cli,
                                 write_config)

WORKER = Path(__file__).resolve().parent / "worker_kill.py"


def _config(tmp_path, out, epochs):
    # Everything trains (BN statistics, momentum) and augmentation draws random numbers, so
    # every piece of state an exact resume needs is exercised.
    cfg = config_dict(out, train={"epochs": epochs, "scheduler": {"name": "cosine",
                                                                  "warmup_epochs": 1}},
                      model={"num_classes": 2},
                      data={"classes": [5, 6], "image_size": 8, "val_fraction": 0.2,
                            "batch_size": 128, "augment": {"random_crop": True, "padding": 1}})
    return write_config(tmp_path / f"config_{out.name}.yaml", cfg)


def _epochs(out):
    return [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text()
            .splitlines()]


def _metrics_without_time(out):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Runs of 2 and 3 epochs that nothing interrupts: the references."""
    tmp = tmp_path_factory.mktemp("reference")
    outs = {}
    for epochs in (2, 3):
        out = tmp / f"ref{epochs}"
        assert finetune_main([str(_config(tmp, out, epochs))]) == 0
        outs[epochs] = out
    return outs


def test_one_epoch_then_resume_to_two_is_bitwise_identical(tmp_path, uninterrupted):
    out = tmp_path / "resumed"
    config = _config(tmp_path, out, 1)
    # --resume auto in an empty folder starts fresh, then continues from last.h5.
    assert finetune_main([str(config), "--resume", "auto"]) == 0
    assert _epochs(out) == [1]
    assert finetune_main([str(config), "--set", "train.epochs=2", "--resume", "auto"]) == 0
    assert_bitwise_equal(checkpoint_arrays(out / "last.h5"),
                         checkpoint_arrays(uninterrupted[2] / "last.h5"))
    assert _metrics_without_time(out) == _metrics_without_time(uninterrupted[2])
    # The rest of the file too: the same config (but for the folder) and history (but for
    # the wall-clock seconds).
    a, b = mt.load(out / "last.h5"), mt.load(uninterrupted[2] / "last.h5")
    assert a["config"].replace(str(out), "OUT") == \
        b["config"].replace(str(uninterrupted[2]), "OUT")
    assert _without_seconds(a["extra"]) == _without_seconds(b["extra"])


def _without_seconds(extra):
    return {**extra, "history": [{k: v for k, v in r.items() if k != "seconds"}
                                 for r in extra["history"]]}


def test_resume_from_an_explicit_path(tmp_path, uninterrupted):
    out = tmp_path / "explicit"
    source = uninterrupted[2] / "last.h5"
    assert finetune_main([str(_config(tmp_path, out, 3)), "--resume", str(source)]) == 0
    assert _epochs(out) == [1, 2, 3]
    assert_bitwise_equal(checkpoint_arrays(out / "last.h5"),
                         checkpoint_arrays(uninterrupted[3] / "last.h5"))


# 291 training samples / 128 = 3 steps per epoch: step 5 is in the middle of epoch 2.
@pytest.mark.parametrize("point, k, survivors", [
    ("step", 5, [1]),         # mid-epoch: epoch 2 never finished
    ("metrics", 2, [1, 2]),   # epoch 2's line written, its checkpoint not yet
    ("best", 1, [1]),         # best.h5 of epoch 1 written, last.h5 not yet: no checkpoint
    ("last", 2, [1, 2]),      # last.h5 of epoch 2 half written (temporary file)
])
def test_sigkill_at_any_moment_then_resume(tmp_path, uninterrupted, point, k, survivors):
    out = tmp_path / "killed"
    config = _config(tmp_path, out, 3)
    proc = run_cli([WORKER, point, str(k), config])
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert _epochs(out) == survivors
    assert finetune_main([str(config), "--resume", "auto"]) == 0
    assert _epochs(out) == [1, 2, 3]
    assert _metrics_without_time(out) == _metrics_without_time(uninterrupted[3])
    assert_bitwise_equal(checkpoint_arrays(out / "last.h5"),
                         checkpoint_arrays(uninterrupted[3] / "last.h5"))
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name]   # stale temporaries gone
