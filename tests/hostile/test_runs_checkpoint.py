"""Resuming from a checkpoint whose fields are of the wrong type or out of range, or that is not
a file at all: one line naming the field, exit code 2, and nothing in the output folder touched
(config.yaml, metrics.jsonl, best.h5 and last.h5 byte for byte as before)."""
import shutil

import numpy as np
import pytest

import minitorch as mt
from minitorch.io.serialization import CHECKPOINT_FORMAT, load_attrs, save
from tests.hostile.run_helpers import (assert_one_line, assert_refused, case_result, finetune,
                                       finetune_cases_in_one_process, folder_digest, resume_case,
                                       tiny_config)



def _rewrite(path, change):
    """Rewrite checkpoint ``path`` with ``change(obj)`` applied (still a valid HDF5 file)."""
    obj = mt.load(path)
    change(obj)
    attrs = {k: v for k, v in load_attrs(path).items() if k not in ("format", "format_version")}
    save(obj, path, attrs=attrs, _format=CHECKPOINT_FORMAT)


def _set(key, value):
    def change(obj):
        node = obj
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    return change


def _history_without_val_acc(obj):
    for record in obj["extra"]["history"]:
        del record["val_acc"]


CASES = {
    "epoch as a string": (_set("epoch", "1"), "'epoch'"),
    "epoch of 10**12": (_set("epoch", 10 ** 12), "'epoch'"),
    "negative epoch": (_set("epoch", -1), "'epoch'"),
    "global_step as a float": (_set("global_step", 1.5), "'global_step'"),
    "garbage numpy RNG state": (_set("rng.numpy.keys", np.arange(3, dtype=np.uint32)),
                                "'rng.numpy'"),
    "garbage minitorch RNG state": (_set("rng.minitorch.state", "not a number"),
                                    "'rng.minitorch'"),
    "RNG state not a dict": (_set("rng", [1, 2, 3]), "'rng'"),
    "history without val_acc": (_history_without_val_acc, "lacks val_acc"),
    "history longer than epoch": (lambda o: o["extra"]["history"].append(
        dict(o["extra"]["history"][0], epoch=2)), "'extra.history'"),
    "stored config not YAML": (_set("config", "seed: [0\nmodel: {"), "not valid YAML"),
    "stored config an alias bomb": (_set("config", "\n".join(
        ["a0: &a0 [" + ", ".join(["x"] * 9) + "]"]
        + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)])),
        "alias bomb"),
    "optimizer groups not a list": (_set("optimizer.param_groups", "sgd"), "'optimizer'"),
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory, finished):
    """Every case's folder, damaged, then all the resumes in one worker process (one import
    for all of them; its peak memory bounds each case's)."""
    tmp = tmp_path_factory.mktemp("cases")
    cases = [resume_case(tmp, finished, name, f"case{i}",
                         damage=lambda out, change=change: _rewrite(out / "last.h5", change))
             for i, (name, (change, _)) in enumerate(CASES.items())]
    return finetune_cases_in_one_process(tmp, cases)


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_checkpoint_field_is_one_line_and_nothing_is_written(refused, case):
    _, named = CASES[case]
    assert_one_line(case_result(refused, case), contains=(named, "last.h5"))
    got = refused["results"][case]
    assert got["after"] == got["before"]


def test_last_h5_that_is_a_folder_is_refused_before_anything_is_written(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    (out / "last.h5").unlink()
    (out / "last.h5").mkdir()
    (out / "last.h5" / "inside").write_text("x")
    before = folder_digest(out)
    config = tiny_config(tmp_path, out, epochs=2)
    assert_refused(finetune(config, "--resume", "auto"), out, before,
                   contains=("last.h5", "not a file"))
    # A fresh start would have to replace it: refused too, before config.yaml is rewritten.
    assert_refused(finetune(config), out, before, contains=("last.h5", "not a file"))


def test_checkpoint_at_train_epochs_writes_nothing(tmp_path, finished):
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    before = folder_digest(out)
    result = finetune(tiny_config(tmp_path, out, epochs=1), "--resume", "auto")
    assert result.returncode == 0, result
    assert "nothing to do" in result.stdout
    assert folder_digest(out) == before
