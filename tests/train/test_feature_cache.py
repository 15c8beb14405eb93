"""The frozen backbone as a cached stage (train.feature_cache): reused features give bitwise the
same run as recomputed ones, the backbone runs only in the first epoch, the plain batch-by-batch
path agrees to float32 rounding, and runs that do not qualify train the usual way."""
import json

import numpy as np
import pytest

import minitorch as mt
from minitorch.train import feature_cache as fc_module
from minitorch.train.cli import finetune_main
from minitorch.train.config import config_from_dict
from minitorch.train.feature_cache import FeatureCache, feature_cache_status
from minitorch.train.freeze import apply_freeze, resolve_freeze
from tests.train.helpers import (assert_bitwise_equal, checkpoint_arrays, config_dict,
                                 make_weights, write_config)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return make_weights(tmp_path_factory.mktemp("w") / "w.h5",
                        attrs={"class_names": ["0", "1", "2", "3", "4"]})


def _run(tmp_path, weights, name, cache, monkeypatch=None, epochs=3):
    calls = {"backbone": 0}
    if monkeypatch is not None:
        original = FeatureCache.backbone

        def counting(self, x):
            calls["backbone"] += 1
            return original(self, x)
        monkeypatch.setattr(FeatureCache, "backbone", counting)
    out = tmp_path / name
    cfg = config_dict(out, weights, train={"epochs": epochs, "feature_cache": cache},
                      model={"num_classes": 2}, data={"classes": [5, 6]})
    assert finetune_main([str(write_config(tmp_path / f"{name}.yaml", cfg))]) == 0
    return out, calls["backbone"]


def _metrics(out):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_cached_features_give_bitwise_the_same_run(tmp_path, weights, monkeypatch):
    cached, cached_calls = _run(tmp_path, weights, "auto", "auto", monkeypatch)
    fresh, fresh_calls = _run(tmp_path, weights, "off", "off", monkeypatch)
    assert_bitwise_equal(checkpoint_arrays(cached / "last.h5"),
                         checkpoint_arrays(fresh / "last.h5"))
    assert _metrics(cached) == _metrics(fresh)
    # 291 training samples in chunks of 64 (5) + 2 validation batches (72 samples).
    assert cached_calls == 5 + 2           # the backbone ran in the first epoch only
    assert fresh_calls == 3 * (5 + 2)      # ... and in every epoch without the cache


def test_backbone_stage_agrees_with_the_plain_path(tmp_path, weights, monkeypatch):
    staged, _ = _run(tmp_path, weights, "staged", "auto", epochs=2)
    monkeypatch.setattr("minitorch.train.trainer.feature_cache_status",
                        lambda *args: (False, "off (test)"))
    plain, _ = _run(tmp_path, weights, "plain", "auto", epochs=2)
    a, b = mt.load(staged / "last.h5")["model"], mt.load(plain / "last.h5")["model"]
    for key in a:
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=key)


@pytest.mark.parametrize("changes, reason", [
    ({"model": {"freeze": "none"}}, "part of the backbone trains"),
    ({"model": {"freeze": ["conv1", "bn1"]}}, "part of the backbone trains"),
    ({"data": {"augment": {"random_crop": True, "padding": 1}}}, "random augmentation"),
])
def test_runs_that_do_not_qualify_train_batch_by_batch(tmp_path, weights, changes, reason):
    from models import resnet18
    from minitorch.data import build_datasets
    raw = config_dict(tmp_path, weights, train={"feature_cache": "auto"})
    for section, values in changes.items():
        raw[section].update(values)
    config = config_from_dict(raw)
    model = resnet18(num_classes=5, variant="small", width=4)
    plan = resolve_freeze(model, config.model.freeze)
    apply_freeze(model, plan)
    train_set, _, _ = build_datasets(config.data, in_channels=3)
    usable, note = feature_cache_status(config, model, plan, train_set)
    assert not usable and reason in note


def test_headless_backbone_leaves_the_model_whole():
    from models import resnet18
    model = resnet18(num_classes=3, variant="small", width=4).eval()
    head = model.fc
    features = FeatureCache(model, 4).backbone(mt.randn(2, 3, 8, 8))
    assert features.shape == (2, 32) and model.fc is head
    assert list(dict(model.named_children()))[-1] == "fc"
    assert fc_module.HEAD_PREFIX == "fc"
