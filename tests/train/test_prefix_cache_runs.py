"""Whole runs with the frozen-prefix cache: on and off give bitwise the same run (augmented views,
a memory-mapped store, an unfreezing at epoch 2, a kill and resume), a stale cache is rebuilt,
an unwritable cache folder falls back to recomputing, each saying so."""
import pytest

from minitorch.train.trainer import Trainer
from tests.train.helpers import assert_bitwise_equal
from tests.train.prefix_cache_helpers import cache_config, make_inputs, make_trainer, train


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return make_inputs(tmp_path_factory.mktemp("inputs"))


class Unfreezing(Trainer):
    """Makes layer2 trainable at the start of epoch 2 (what an unfreezing schedule does)."""

    def _on_epoch_start(self, epoch):
        if epoch >= 2 and not self.model.layer2[0].conv1.weight.requires_grad:
            params = list(self.model.layer2.parameters())
            for p in params:
                p.requires_grad_(True)
            self.optimizer.add_param_group({"params": params})
            self.trainable = [p for p in self.model.parameters() if p.requires_grad]
            self.plan.frozen_bn = [n for n in self.plan.frozen_bn if not n.startswith("layer2.")]
        super()._on_epoch_start(epoch)


class Killed(Exception):
    pass


class KilledAtEpoch2(Unfreezing):
    def _on_epoch_start(self, epoch):
        if epoch == 2:
            raise Killed()
        super()._on_epoch_start(epoch)


def _pair(tmp_path, inputs, name, trainer_class=None, **changes):
    """(cached run, recomputed run) of the same config."""
    data, weights, _ = inputs
    runs = []
    for cache in ("auto", "off"):
        cfg = cache_config(tmp_path / f"{name}_{cache}", data, weights, feature_cache=cache,
                           **changes)
        runs.append(train(tmp_path, cfg, f"{name}_{cache}", trainer_class))
    return runs


def _recomputed(tmp_path, data, weights, epochs):
    """last.h5's arrays of the same run with the cache off."""
    return train(tmp_path, cache_config(tmp_path / "off", data, weights, feature_cache="off",
                                        epochs=epochs), "off")[0]


def test_cached_views_give_bitwise_the_same_run_as_recomputing(tmp_path, inputs):
    (cached, log, trainer), (fresh, _, recomputing) = _pair(tmp_path, inputs, "views")
    assert_bitwise_equal(cached, fresh)
    assert "the frozen prefix conv1..layer2 is computed once per (sample, view)" in log
    n = len(trainer.train_set)
    # each (sample, view) once, never more; recomputing runs every sample in every epoch
    assert recomputing.feature_cache.computed == 3 * n
    assert n < trainer.feature_cache.computed < 3 * n


def test_a_flips_two_views_are_computed_on_the_first_draw_bitwise(tmp_path, inputs):
    (cached, log, trainer), (fresh, _, recomputing) = _pair(
        tmp_path, inputs, "flip", augment={"horizontal_flip": True})
    assert_bitwise_equal(cached, fresh)
    # epoch 1 draws every sample: each fixed chunk (4 samples x both views) is computed then,
    # once; epochs 2-3 compute nothing. Recomputing runs every chunk in every epoch.
    chunks = -(-len(trainer.train_set) // 4)
    assert trainer.feature_cache.computed == chunks
    assert recomputing.feature_cache.computed == 3 * chunks
    assert "every view of a sample on its first draw" in log


def test_a_deterministic_frozen_backbone_runs_once(tmp_path, inputs):
    (cached, log, trainer), (fresh, _, recomputing) = _pair(
        tmp_path, inputs, "backbone", freeze="backbone", augment={})
    assert_bitwise_equal(cached, fresh)
    chunks = -(-len(trainer.train_set) // 16)   # fixed chunks of batch_size positions
    assert trainer.feature_cache.computed == chunks
    assert recomputing.feature_cache.computed == 3 * chunks
    assert "fc trains on it" in log


def test_a_memory_mapped_store_gives_the_same_run(tmp_path, inputs):
    data, weights, _ = inputs
    cfg = cache_config(tmp_path / "memory", data, weights)
    in_memory, _, _ = train(tmp_path, cfg, "memory")
    cfg = cache_config(tmp_path / "file", data, weights, feature_cache_memory_mb=0.0)
    in_file, log, trainer = train(tmp_path, cfg, "file")
    assert_bitwise_equal(in_memory, in_file)
    assert "train.feature_cache_memory_mb 0 MB holds 0 row(s)" in log
    assert "memory-mapped file in " + str(tmp_path / "file" / "cache") in log
    assert sorted(p.suffix for p in (tmp_path / "file" / "cache").iterdir()) == [".bin", ".json"]


def test_unfreezing_at_epoch_2_shrinks_the_cached_prefix_bitwise(tmp_path, inputs):
    (cached, log, _), (fresh, _, _) = _pair(tmp_path, inputs, "unfreeze", Unfreezing)
    assert_bitwise_equal(cached, fresh)
    assert ("feature cache: the frozen prefix is now conv1..layer1 (was conv1..layer2): "
            "recomputing its outputs") in log


@pytest.mark.parametrize("memory_mb, augment", [(1024.0, None), (0.0, None),
                                               (0.0, {"horizontal_flip": True})])
def test_killed_and_resumed_across_the_unfreezing_equals_the_whole_run(tmp_path, inputs,
                                                                       memory_mb, augment):
    data, weights, _ = inputs
    whole, _, _ = train(tmp_path, cache_config(tmp_path / "whole", data, weights,
                                               feature_cache_memory_mb=memory_mb,
                                               augment=augment),
                        "whole", Unfreezing)
    cfg = cache_config(tmp_path / "killed", data, weights, feature_cache_memory_mb=memory_mb,
                       augment=augment)
    with pytest.raises(Killed):
        train(tmp_path, cfg, "killed", KilledAtEpoch2)
    resumed, log, _ = train(tmp_path, cfg, "killed", Unfreezing, resume="auto")
    assert_bitwise_equal(whole, resumed)
    assert "resumed from" in log


def test_a_resumed_run_reuses_the_rows_of_its_file(tmp_path, inputs):
    data, weights, _ = inputs
    cfg = cache_config(tmp_path / "run", data, weights, freeze="backbone", augment={},
                       feature_cache_memory_mb=0.0, epochs=1)
    first, _, _ = train(tmp_path, cfg, "first")
    cfg["train"]["epochs"] = 2
    _, log, trainer = train(tmp_path, cfg, "second", resume="auto")
    assert "feature cache: reusing 44 rows of" in log
    assert trainer.feature_cache.computed == 0


def test_a_stale_cache_from_other_weights_is_rebuilt(tmp_path, inputs):
    data, weights, other = inputs
    shared = str(tmp_path / "shared_cache")
    train(tmp_path, cache_config(tmp_path / "a", data, weights, feature_cache_memory_mb=0.0,
                                 feature_cache_dir=shared, epochs=1), "a")
    rebuilt, log, _ = train(tmp_path, cache_config(
        tmp_path / "b", data, other, feature_cache_memory_mb=0.0, feature_cache_dir=shared,
        epochs=1), "b")
    assert "was built for other weights (stale): rebuilding" in log
    assert_bitwise_equal(rebuilt, _recomputed(tmp_path, data, other, epochs=1))


def test_an_unwritable_cache_folder_falls_back_to_recomputing(tmp_path, inputs):
    data, weights, _ = inputs
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    cfg = cache_config(tmp_path / "run", data, weights, feature_cache_memory_mb=0.0,
                       feature_cache_dir=str(blocker / "cache"), epochs=2)
    fallback, log, _ = train(tmp_path, cfg, "run")
    assert f"feature cache: cannot write {blocker / 'cache'}" in log
    assert "the frozen prefix is recomputed every epoch" in log
    assert_bitwise_equal(fallback, _recomputed(tmp_path, data, weights, epochs=2))


@pytest.mark.parametrize("failing", ["add", "sync"])
def test_a_cache_file_that_fails_mid_run_falls_back_to_recomputing(tmp_path, inputs,
                                                                   monkeypatch, failing):
    """A disk that fills up (or a folder removed) after the file was made: one line, then the
    prefix is recomputed every epoch, and the run is still bitwise the recomputed one."""
    import errno
    from minitorch.train.cache_store import FileStore
    data, weights, _ = inputs
    original, calls = getattr(FileStore, failing), []

    def full_disk(self, *args):
        calls.append(failing)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, *args)
    monkeypatch.setattr(FileStore, failing, full_disk)
    cfg = cache_config(tmp_path / "run", data, weights, feature_cache_memory_mb=0.0, epochs=2)
    fallback, log, trainer = train(tmp_path, cfg, "run")
    line = (f"feature cache: cannot write {tmp_path / 'run' / 'cache'} (No space left on "
            f"device): the frozen prefix is recomputed every epoch")
    assert log.count(line) == 1 and len(calls) > 3
    assert trainer.feature_cache.recompute_only
    monkeypatch.setattr(FileStore, failing, original)
    assert_bitwise_equal(fallback, _recomputed(tmp_path, data, weights, epochs=2))


def test_nothing_frozen_means_no_cache(tmp_path, inputs):
    data, weights, _ = inputs
    trainer = make_trainer(tmp_path, cache_config(tmp_path / "run", data, weights,
                                                  freeze="none"))
    trainer.close()
    assert trainer.feature_cache is None and trainer.cache_note == "off (nothing is frozen)"


def test_the_cached_stage_agrees_with_the_plain_path(tmp_path, inputs, monkeypatch):
    import numpy as np
    data, weights, _ = inputs
    staged, _, _ = train(tmp_path, cache_config(tmp_path / "staged", data, weights, epochs=2),
                         "staged")
    monkeypatch.setattr("minitorch.train.trainer.feature_cache_status",
                        lambda *args: (False, "off (test)"))
    plain, _, _ = train(tmp_path, cache_config(tmp_path / "plain", data, weights, epochs=2),
                        "plain")
    for key in (k for k in staged if k.startswith("model.")):
        np.testing.assert_allclose(staged[key], plain[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("augment, reason", [
    ({"rotation": 10.0}, "RandomRotation draws a continuous angle"),
    ({"random_resized_crop": True}, "RandomResizedCrop draws a continuous scale"),
    ({"color_jitter": [0.4, 0.4, 0.4, 0.1]}, "ColorJitter draws continuous"),
])
def test_continuous_augmentation_turns_the_cache_off_saying_why(tmp_path, augment, reason):
    from tests.train.image_helpers import image_folder_config, make_image_folder
    root = make_image_folder(tmp_path / "images", per_class=2)
    cfg = image_folder_config(root, tmp_path / "run", freeze=["conv1", "bn1", "layer1"])
    cfg["data"]["augment"] = {"horizontal_flip": True, **augment}
    cfg["train"]["feature_cache"] = "auto"
    _, log, trainer = train(tmp_path, cfg)
    assert trainer.feature_cache is None
    assert f"feature cache: off ({reason}" in log and "no finite set of views to cache)" in log


def test_photo_augmentation_on_other_datasets_is_a_config_error(tmp_path, inputs):
    from minitorch.train.config import ConfigError, config_from_dict
    data, weights, _ = inputs
    with pytest.raises(ConfigError, match="data.augment.rotation: works on photos"):
        config_from_dict(cache_config(tmp_path, data, weights, augment={"rotation": 5.0}))


def test_a_negative_cache_budget_is_one_line_and_exit_2(tmp_path, inputs):
    from tests.train.helpers import run_cli, write_config
    data, weights, _ = inputs
    path = write_config(tmp_path / "bad.yaml", cache_config(tmp_path / "run", data, weights,
                                                            feature_cache_memory_mb=-1))
    proc = run_cli(["-m", "minitorch.train.cli", path])
    assert proc.returncode == 2 and not (tmp_path / "run").exists()
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: train.feature_cache_memory_mb: must be >= 0.0, got -1.0"]


def test_the_fill_runs_in_forward_once_mode_and_the_cli_compiles_for_it(tmp_path, inputs,
                                                                        monkeypatch):
    # the frozen prefix is computed once a row (ops.conv.forward_once: no F(2x2, 3x3) kernels),
    # the trainable rest as usual; minitorch-finetune compiles for exactly that
    from minitorch import runtime
    from minitorch.ops import conv as conv_ops
    from minitorch.train import feature_cache
    from minitorch.train.cli import finetune_main
    from tests.train.helpers import write_config
    real, seen, asked = feature_cache.run_children, [], []

    def recording(model, names, x):
        seen.append((names[0], conv_ops.in_forward_once()))
        return real(model, names, x)

    monkeypatch.setattr(feature_cache, "run_children", recording)
    monkeypatch.setattr(runtime, "compile_if_cold", lambda **kw: asked.append(kw))
    data, weights, _ = inputs
    cfg = cache_config(tmp_path / "run", data, weights, freeze="backbone", augment={}, epochs=1)
    assert finetune_main([str(write_config(tmp_path / "run.yaml", cfg))]) == 0
    assert {flag for name, flag in seen if name == "conv1"} == {True}
    assert {flag for name, flag in seen if name != "conv1"} == {False} and len(seen) > 2
    assert asked[0]["feature_cache"] is True
    cfg["model"]["freeze"], cfg["output"]["dir"] = "none", str(tmp_path / "all")
    assert finetune_main([str(write_config(tmp_path / "all.yaml", cfg))]) == 0
    assert asked[1]["feature_cache"] is False
