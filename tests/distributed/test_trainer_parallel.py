"""The real trainer under ``mpiexec -n 2``: same weights as one process on the global batch,
rank-0-only outputs, a killed rank ends the job and the run resumes on 1 or 2 processes, and
bad data-parallel inputs exit 2 with one line."""
import json
import shutil

import numpy as np
import pytest

# The trainer lands in its own commit; until then there is nothing to launch.
pytest.importorskip("minitorch.train.cli")

HERE = __import__("pathlib").Path(__file__).resolve().parent
WORKER = HERE / "worker_finetune.py"
GLOBAL_BATCH = 16


def _npz(path, per_class=15, classes=4, seed=0):
    """A small learnable 4-class image set: each class has its own mean image plus noise."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(0, 1, (classes, 3, 8, 8))
    y = np.repeat(np.arange(classes), per_class)
    x = np.clip(means[y] + 0.15 * rng.standard_normal((y.size, 3, 8, 8)), 0, 1)
    np.savez(path, x=x.astype(np.float32), y=y.astype(np.int64))
    return path


def _config(tmp_path, freeze, out, epochs=2, data=None):
    # At lr 0.05 this tiny BatchNorm net is chaotic in its second epoch: a 1e-6 relative change of
    # the weights after epoch 1 (the rounding of a gradient summed per rank) grows to 8e-4, so
    # "the same weights as one process" could not be told from rounding luck. At 0.02 two ranks
    # and one process end 5e-7 apart, and a real difference (a sample counted twice, a missed
    # all-reduce) is still orders of magnitude above the tolerance.
    data = data or _npz(tmp_path / "data.npz")
    path = tmp_path / f"config_{freeze}.yaml"
    path.write_text(
        "seed: 0\n"
        f"model: {{arch: resnet18, variant: small, width: 4, weights: null, freeze: {freeze}}}\n"
        f"data: {{dataset: npz, root: '{data}', image_size: 8, val_fraction: 0.2, "
        f"batch_size: {GLOBAL_BATCH}}}\n"
        f"train: {{epochs: {epochs}, feature_cache: 'off', "
        f"optimizer: {{lr: 0.02, momentum: 0.9}}}}\n"
        f"output: {{dir: '{out}', plot: false}}\n")
    return path


def _finetune(mpi, config, n, *extra, kill=None, check=False, timeout=240):
    """Run the trainer on n ranks (n=None: one plain process) with the global batch fixed;
    ``check``: assert that the ranks are bitwise identical at every step."""
    per_rank = GLOBAL_BATCH // (n or 1)
    args = [WORKER] + (["--check-replicas"] if check else [])
    args += ["--kill-rank", kill[0], "--kill-at-sync", kill[1]] if kill else []
    args += [config, "--set", f"data.batch_size={per_rank}", *extra]
    return mpi(args, n=n, timeout=timeout)


def _weights(run_dir):
    import minitorch as mt
    return {k: v.numpy() for k, v in mt.load(run_dir / "last.h5")["model"].items()}


def _metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _assert_close(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("freeze", ["backbone", "none"])
def test_two_ranks_train_the_same_weights_as_one_process(mpi, tmp_path, freeze):
    alone, pair = tmp_path / "alone", tmp_path / "pair"
    proc = _finetune(mpi, _config(tmp_path, freeze, alone), None)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = _finetune(mpi, _config(tmp_path, freeze, pair), 2, check=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w1, w2 = _weights(alone), _weights(pair)
    _assert_close(w2, w1)
    if freeze == "backbone":  # frozen weights and BatchNorm statistics never move, anywhere
        assert all(np.array_equal(w2[k], w1[k]) for k in w1 if not k.startswith("fc."))
    m1, m2 = _metrics(alone), _metrics(pair)
    assert [m["epoch"] for m in m2] == [1, 2]  # rank 0 alone writes each epoch once
    for a, b in zip(m1, m2):
        assert b["val_acc"] == pytest.approx(a["val_acc"], abs=1e-6)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-4)
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)


def test_killed_rank_ends_job_and_resumes_on_one_and_two_processes(mpi, tmp_path):
    full, run = tmp_path / "uninterrupted", tmp_path / "run"
    proc = _finetune(mpi, _config(tmp_path, "none", full, epochs=3), 2)
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = _config(tmp_path, "none", run, epochs=3)
    # 48 training samples / global batch 16 = 3 steps per epoch: sync 5 is inside epoch 2,
    # after epoch 1's checkpoint. The launcher must end rank 0 too (else: TimeoutExpired).
    proc = _finetune(mpi, config, 2, kill=("1", "5"), timeout=120)
    assert proc.returncode != 0
    assert [m["epoch"] for m in _metrics(run)] == [1]
    resumed = {}
    for n in (None, 2):
        copy = tmp_path / f"resume_{n or 1}"
        shutil.copytree(run, copy)
        proc = _finetune(mpi, config, n, "--set", f"output.dir={copy}", "--resume", "auto")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert [m["epoch"] for m in _metrics(copy)] == [1, 2, 3]
        resumed[n] = _weights(copy)
    # Same number of ranks: the resumed run is bitwise the uninterrupted one.
    want = _weights(full)
    assert all(np.array_equal(resumed[2][k], want[k]) for k in want)
    # One rank: the same steps to float32 rounding. Six SGD steps at lr 0.05 with momentum
    # amplify the summation-order differences in the small BatchNorm biases (their gradients
    # are sums that nearly cancel), hence a tolerance relative to each tensor's scale.
    for k in want:
        scale = max(1.0, float(np.abs(want[k]).max()))
        np.testing.assert_allclose(resumed[None][k], want[k], rtol=1e-3, atol=1e-4 * scale,
                                   err_msg=k)


def test_dataset_smaller_than_the_ranks_is_one_line_exit_2(mpi, tmp_path):
    # 2 classes x 2 samples: 1 training sample per class after a 50% split ... 2 samples on 3 ranks.
    data = _npz(tmp_path / "tiny.npz", per_class=2, classes=2)
    out = tmp_path / "out"
    config = _config(tmp_path, "none", out, data=data)
    proc = mpi([WORKER, config, "--set", "data.val_fraction=0.5", "--set", "data.batch_size=1"],
               n=3, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "3 processes" in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_config_under_two_ranks_is_one_line_exit_2(mpi, tmp_path):
    out = tmp_path / "out"
    config = _config(tmp_path, "none", out)
    proc = mpi([WORKER, config, "--set", "model.widht=3"], n=2, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {config}: model.widht: unknown key (did you mean 'model.width'?)"]
    assert not out.exists()


@pytest.mark.parametrize("freeze, per_class, classes", [
    ("none", 11, 5),       # 45 training samples: the last global batch (13) splits 7 / 6
    ("backbone", 9, 7),    # 49: the last global batch holds 1 sample, rank 1 takes an empty step
])
def test_two_ranks_equal_one_process_on_a_training_set_of_odd_size(mpi, tmp_path, freeze,
                                                                   per_class, classes):
    data = _npz(tmp_path / "odd.npz", per_class=per_class, classes=classes)
    alone, pair = tmp_path / "alone", tmp_path / "pair"
    for out, n in ((alone, None), (pair, 2)):
        proc = _finetune(mpi, _config(tmp_path, freeze, out, data=data), n, check=True
                         if n else False)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{per_class * classes - classes * round(per_class * 0.2)} train" in proc.stdout
    _assert_close(_weights(pair), _weights(alone))
    m1, m2 = _metrics(alone), _metrics(pair)
    assert [m["epoch"] for m in m2] == [1, 2]
    for a, b in zip(m1, m2):   # no sample counted twice: the same means as one process
        assert b["train_acc"] == pytest.approx(a["train_acc"], abs=1e-9)
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
        assert b["val_acc"] == pytest.approx(a["val_acc"], abs=1e-9)
