"""minitorch-evaluate FILE --data PATH: a whole labelled folder or npz, no split, with the file's
recorded eval transform; the same per-file predictions as minitorch-predict."""
import csv

import numpy as np
import pytest

from minitorch.train.cli import evaluate_main, predict_main
from minitorch.train.evaluate import per_class_metrics, row_normalised

from .helpers import make_weights
from .image_helpers import CLASSES, copy_image_folder_run


@pytest.fixture(scope="module")
def run(tmp_path_factory, image_folder_run):
    _, best, root = copy_image_folder_run(image_folder_run, tmp_path_factory.mktemp("evaluate"))
    return best, root


def test_predict_top1_equals_evaluates_per_file_predictions(run, tmp_path, capsys):
    best, root = run
    predictions = tmp_path / "p.csv"
    assert predict_main([str(best), str(root), "--topk", "1", "--csv", str(predictions)]) == 0
    top1 = {row["path"]: row["class1"] for row in csv.DictReader(predictions.open())}
    assert len(top1) == 15
    assert evaluate_main([str(best), "--data", str(root), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    wrong = {row["file"]: row for row in
             csv.DictReader((tmp_path / "images_misclassified.csv").open())}
    for path, predicted in top1.items():
        true = path.split("/")[-2]
        if path in wrong:
            assert wrong[path]["true"] == true and wrong[path]["predicted"] == predicted
            assert predicted != true
        else:
            assert predicted == true, path
    correct = sum(1 for p, c in top1.items() if c == p.split("/")[-2])
    assert f"accuracy {correct / 15:.4f}" in printed
    assert "top-5" not in printed          # 3 classes
    assert (tmp_path / "images_confusion.png").stat().st_size > 1000


def test_per_class_metrics_match_scikit_learn():
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    p[y == 3] = 0                            # class 3 never predicted: precision 0 by rule
    matrix = confusion_matrix(y, p, labels=range(4))
    ours = per_class_metrics(matrix)
    theirs = precision_recall_fscore_support(y, p, labels=range(4), zero_division=0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(row_normalised(matrix).sum(axis=1), 1.0)


def _npz_classifier(tmp_path, k=7):
    """A weights file with k class names and a square 8x8 RGB transform, and an npz for it."""
    names = [f"c{i}" for i in range(k)]
    weights = make_weights(tmp_path / "w.h5", num_classes=k, width=4, attrs={
        "class_names": names, "image_size": 8, "resize": "square", "crop": "none",
        "image_mode": "RGB", "in_channels": 3, "mean": [0.5], "std": [0.25]})
    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, size=(40, 10, 10, 3), dtype=np.uint8)
    y = np.arange(40) % k
    np.savez(tmp_path / "test.npz", x=x, y=y)
    return weights, x, y


def test_npz_with_more_than_five_classes_reports_top5(tmp_path, capsys):
    from minitorch.train.classifier import load_classifier
    weights, x, y = _npz_classifier(tmp_path)
    assert evaluate_main([str(weights), "--data", str(tmp_path / "test.npz")]) == 0
    printed = capsys.readouterr().out
    clf = load_classifier(weights)
    probs = clf.probabilities(clf.transform.arrays(x.transpose(0, 3, 1, 2) / np.float32(255)))
    top5 = np.argsort(-probs, axis=1)[:, :5]
    expected = np.mean((top5 == y[:, None]).any(axis=1))
    assert f"top-5 {expected:.4f}" in printed
    assert f"accuracy {np.mean(probs.argmax(1) == y):.4f}" in printed
    for name in ("c0", "c6", "macro avg"):
        assert name in printed
    assert (tmp_path / "test_misclassified.csv").exists()


def test_unwritable_output_prints_the_results_then_one_error_line(tmp_path, capsys):
    weights, _, _ = _npz_classifier(tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    code = evaluate_main([str(weights), "--data", str(tmp_path / "test.npz"), "--out",
                          str(blocker / "results")])
    captured = capsys.readouterr()
    assert code == 2 and "accuracy" in captured.out
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot write the results" in errors[0]


def test_a_folder_of_an_unknown_class_is_refused(run, tmp_path, capsys):
    best, root = run
    (tmp_path / "data" / "zebra").mkdir(parents=True)
    (tmp_path / "data" / CLASSES[0]).mkdir()
    assert evaluate_main([str(best), "--data", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "'zebra'" in err
