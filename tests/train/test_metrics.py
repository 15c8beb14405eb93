"""Metrics: accuracy, the confusion matrix (scikit-learn's convention), epoch sums and the
metrics.jsonl file that must survive a kill with whole lines only."""
import json

import numpy as np
import pytest

from minitorch.train.metrics import (EpochMeter, MetricsLog, accuracy, confusion_matrix,
                                     count_correct, read_metrics)


def test_confusion_matrix_matches_scikit_learn():
    from sklearn.metrics import confusion_matrix as sk_confusion
    rng = np.random.default_rng(0)
    targets, preds = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    ours = confusion_matrix(preds, targets, 4)
    np.testing.assert_array_equal(ours, sk_confusion(targets, preds, labels=range(4)))
    assert ours.sum() == 200 and np.trace(ours) == np.count_nonzero(preds == targets)


def test_confusion_matrix_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="prediction 3 outside"):
        confusion_matrix([0, 3], [0, 1], 3)


def test_accuracy_counts_argmax_hits():
    logits = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0]], dtype=np.float32)
    assert count_correct(logits, np.array([1, 0, 0])) == 2
    assert accuracy(logits, np.array([1, 0, 0])) == pytest.approx(2 / 3)


def test_epoch_meter_weighs_every_sample_once():
    meter = EpochMeter()
    meter.update(1.0, np.eye(2)[[0, 1, 1]], np.array([0, 1, 0]))   # 3 samples, mean loss 1
    meter.update(4.0, np.eye(2)[[1]], np.array([1]))               # 1 sample, loss 4
    assert meter.loss == pytest.approx((3 * 1.0 + 4.0) / 4)
    assert meter.acc == pytest.approx(3 / 4)
    assert EpochMeter.means({"loss_sum": 0.0, "correct": 0, "count": 0})[1] == 0.0


def test_metrics_log_drops_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    log = MetricsLog(path)
    log.rewrite([{"epoch": 1, "val_acc": 0.5}])
    log.append({"epoch": 2, "val_acc": float("nan")})
    with open(path, "a") as f:
        f.write('{"epoch": 3, "val_a')          # a kill in the middle of a write
    records = read_metrics(path)
    assert [r["epoch"] for r in records] == [1, 2]
    assert records[1]["val_acc"] is None        # NaN is written as null: still valid JSON
    log.rewrite(records[:1])
    assert [json.loads(line)["epoch"] for line in path.read_text().splitlines()] == [1]
