"""A non-finite loss stops the run in one line (epoch, step, what to try), exit code 2, with the
last good checkpoint kept: best.h5, last.h5 and metrics.jsonl stay as the good epoch left them."""
import shutil

import minitorch as mt
import numpy as np

from tests.hostile.run_helpers import assert_one_line, finetune, folder_digest, tiny_config


def test_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)   # a good 1-epoch run of the tiny job
    good = {k: v for k, v in folder_digest(out).items() if k != "config.yaml"}
    # Resume with a learning rate that overflows the weights within a few steps.
    config = tiny_config(tmp_path, out, "diverge.yaml", epochs=3,
                         train={"optimizer": {"lr": 1e30, "momentum": 0.9}})
    line = assert_one_line(finetune(config, "--resume", "auto"),
                           contains=("not finite", "epoch 2, step", "lower train.optimizer.lr",
                                     "last.h5 (epoch 1)"))
    assert "Traceback" not in line
    now = {k: v for k, v in folder_digest(out).items() if k != "config.yaml"}
    assert now == good   # best.h5 never saved from a NaN model; metrics.jsonl: epoch 1 only
    weights = mt.load(out / "best.h5")["model"]
    assert all(np.isfinite(t.numpy()).all() for t in weights.values())


def test_diverging_fresh_run_writes_no_checkpoint(tmp_path):
    out = tmp_path / "out"
    config = tiny_config(tmp_path, out, epochs=2, train={"optimizer": {"lr": 1e30}})
    assert_one_line(finetune(config), contains=("not finite", "epoch 1, step",
                                                "no checkpoint was written yet"))
    assert not (out / "best.h5").exists() and not (out / "last.h5").exists()
    assert (out / "metrics.jsonl").read_text() == ""
    shutil.rmtree(out)
