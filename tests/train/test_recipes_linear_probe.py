"""The linear-probe start (train.head_init: linear_probe): the L-BFGS solver equals
scikit-learn's LogisticRegression, and the head a run starts from equals an independent solve
on the same features with the cross-validated C."""
import numpy as np
import pytest
from sklearn import linear_model as sklearn_linear   # a core dependency: the independent solve

from minitorch.train.config import config_from_dict
from minitorch.train.recipes.linear_probe import probe_features, standardise
from minitorch.train.recipes.logistic import (cross_validate_C, fit_logistic, log_loss,
                                              stratified_folds)
from minitorch.train.trainer import Trainer
from tests.train.helpers import config_dict, make_weights


def _data(n=300, F=20, K=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, F))
    y = (X[:, :K] + 0.7 * rng.normal(size=(n, K))).argmax(axis=1)
    return X, y


def _sklearn(X, y, C):
    m = sklearn_linear.LogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(X, y)
    return m.coef_, m.intercept_ - m.intercept_.mean()


@pytest.mark.parametrize("C", [0.01, 1.0, 50.0])
def test_solver_equals_sklearn(C):
    X, y = _data()
    W, b = fit_logistic(X, y, 4, C)
    W_ref, b_ref = _sklearn(X, y, C)
    assert np.abs(W - W_ref).max() < 1e-5 * max(1.0, np.abs(W_ref).max())
    assert np.abs(b - b_ref).max() < 1e-5 * max(1.0, np.abs(b_ref).max())


def test_folds_are_stratified_and_seeded():
    _, y = _data(n=203)
    folds = stratified_folds(y, 5, seed=3)
    assert np.array_equal(folds, stratified_folds(y, 5, seed=3))
    assert not np.array_equal(folds, stratified_folds(y, 5, seed=4))
    for c in np.unique(y):   # every class spread evenly over the folds
        counts = np.bincount(folds[y == c], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_cross_validation_picks_the_lowest_held_out_loss():
    X, y = _data()
    best, scores = cross_validate_C(X, y, 4, [1e-4, 0.1, 1e4], 4, seed=0)
    assert best == min(scores, key=scores.get)
    # by hand, for one C: the folds' held-out losses weighted by their sizes (solved to the
    # end here, from zero; the cross-validation's warm-started solves agree to their tolerance)
    folds = stratified_folds(y, 4, 0)
    total = 0.0
    for f in range(4):
        W, b = fit_logistic(X[folds != f], y[folds != f], 4, 0.1)
        total += log_loss(X[folds == f], y[folds == f], W, b) * (folds == f).sum()
    assert scores[0.1] == pytest.approx(total / len(y), rel=1e-6)


@pytest.mark.parametrize("feature_cache", ["auto", "off"])
def test_run_starts_from_the_independently_solved_head(tmp_path, capsys, feature_cache):
    weights = make_weights(tmp_path / "pretrained.h5")
    cfg = config_dict(tmp_path / "run", weights=weights,
                      data={"augment": {"horizontal_flip": feature_cache == "off"}},
                      train={"head_init": "linear_probe", "feature_cache": feature_cache,
                             "linear_probe": {"folds": 3, "C": [0.01, 1.0]}})
    trainer = Trainer(config_from_dict(cfg))
    features, targets = probe_features(trainer)   # before the probe: the same backbone
    features, targets = features.copy(), targets.copy()
    trainer._on_run_start()
    out = capsys.readouterr().out
    C = float(out.split("C=")[1].split()[0])
    assert C in (0.01, 1.0)
    X = features.astype(np.float64)
    mean, std = standardise(X)
    W_std, b_std = _sklearn((X - mean) / std, targets, C)
    W_ref = W_std / std
    b_ref = b_std - W_ref @ mean
    W = trainer.model.fc.weight.detach().numpy()
    b = trainer.model.fc.bias.detach().numpy()
    assert np.abs(W - W_ref).max() < 1e-4 * max(1.0, np.abs(W_ref).max())
    # the intercepts are determined up to one constant: compare the logits they give
    logits, ref = X @ W.T + b, X @ W_ref.T + b_ref
    spread = lambda z: z - z.mean(axis=1, keepdims=True)   # noqa: E731
    assert np.abs(spread(logits) - spread(ref)).max() < 1e-3
    trainer.close()


def test_a_probed_run_trains_on_from_the_head(tmp_path, capsys):
    from minitorch.train.cli import finetune_main
    from tests.train.helpers import write_config
    weights = make_weights(tmp_path / "pretrained.h5")
    cfg = config_dict(tmp_path / "run", weights=weights,
                      train={"epochs": 1, "head_init": "linear_probe", "feature_cache": "auto",
                             "optimizer": {"lr": 1e-9, "momentum": 0.0}})
    assert finetune_main([str(write_config(tmp_path / "c.yaml", cfg))]) == 0
    out = capsys.readouterr().out
    assert "linear probe: fc fitted on 717 training features" in out
    # an lr of 1e-9 leaves the probed head as it was: its training accuracy is the epoch's
    probe_acc = float(out.split("train accuracy ")[1].split(",")[0])
    epoch_acc = float(out.split("train_acc ")[1].split()[0])
    assert epoch_acc == pytest.approx(probe_acc, abs=2e-3)
