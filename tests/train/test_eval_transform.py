"""``data.eval_resize``: torchvision's photo evaluation policy (Resize(256) then CenterCrop(224))
in validation, recorded in the checkpoint so predict/evaluate/export apply it; files and
stored configs from before the key keep resizing the shorter side to image_size."""
import shutil

import h5py
import numpy as np
import pytest
from PIL import Image

from minitorch.data import ImageFolder
from minitorch.io import load_attrs
from minitorch.train.classifier import EvalTransform, load_classifier, stored_eval_resize
from minitorch.train.config import ConfigError, config_from_dict
from minitorch.train.evaluate import _config_of
from minitorch.train.feature_cache import feature_cache_status

from .image_helpers import finetune_image_folder, image_folder_config, make_image_folder

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def torchvision_eval(path, resize, crop):
    """torchvision's Resize(resize) + CenterCrop(crop) + ToTensor + Normalize on the PIL path,
    written out: the shorter side to ``resize`` (the longer int(resize * long / short)), PIL
    bilinear, then the crop at int(round((side - crop) / 2))."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    if w <= h:
        size = (resize, int(resize * h / w))
    else:
        size = (int(resize * w / h), resize)
    img = img.resize(size, Image.BILINEAR)
    top, left = int(round((size[1] - crop) / 2.0)), int(round((size[0] - crop) / 2.0))
    img = img.crop((left, top, left + crop, top + crop))
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / np.float32(255)
    mean = np.asarray(MEAN, dtype=np.float32)[:, None, None]
    std = np.asarray(STD, dtype=np.float32)[:, None, None]
    return (x - mean) / std


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for name, sizes in (("a", ((300, 260), (251, 331))), ("b", ((250, 330), (333, 257)))):
        (root / name).mkdir()
        for i, (w, h) in enumerate(sizes):
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def _config(folder, out, **data):
    cfg = image_folder_config(folder, out)
    cfg["data"].update(data)
    return cfg


def test_default_is_torchvision_resize_256_center_crop_224(photos, tmp_path):
    from minitorch.data import build_datasets
    cfg = config_from_dict(_config(photos, tmp_path, image_size=224, val_fraction=0.5))
    assert cfg.data.eval_resize is None
    train, val, _ = build_datasets(cfg.data, seed=0)
    for i in range(len(val)):
        path = val.dataset.samples[val.indices[i]][0]
        np.testing.assert_allclose(val[i][0], torchvision_eval(path, 256, 224), rtol=0,
                                   atol=2e-6)
    # training keeps its own resize (shorter side to image_size), not the eval policy
    path = train.dataset.samples[train.indices[0]][0]
    got = train.dataset.without_augment()[int(train.indices[0])][0]
    np.testing.assert_allclose(got, torchvision_eval(path, 224, 224), rtol=0, atol=2e-6)


def test_eval_transform_of_a_recorded_file_applies_eval_resize(photos):
    path = str(photos / "b" / "0.png")
    t = EvalTransform(224, "shorter_side", "center", "RGB", 3, MEAN, STD, eval_resize=256)
    np.testing.assert_allclose(t(path), torchvision_eval(path, 256, 224), rtol=0, atol=2e-6)
    assert t.to_attrs()["eval_resize"] == 256
    old = EvalTransform(224, "shorter_side", "center", "RGB", 3, MEAN, STD)
    np.testing.assert_allclose(old(path), torchvision_eval(path, 224, 224), rtol=0, atol=2e-6)
    assert "eval_resize" not in old.to_attrs()
    # a float CHW array (ToTensor's output) takes the same resize, bilinearly
    x = np.random.default_rng(1).random((1, 3, 30, 40), dtype=np.float32)
    assert t.arrays(x).shape == old.arrays(x).shape == (1, 3, 224, 224)
    assert not np.array_equal(t.arrays(x), old.arrays(x))


def test_explicit_eval_resize_and_the_image_folder_pipeline(photos):
    ds = ImageFolder(photos, image_size=224, eval_resize=240, mean=MEAN, std=STD).for_eval()
    path = ds.samples[0][0]
    np.testing.assert_allclose(ds[0][0], torchvision_eval(path, 240, 224), rtol=0, atol=2e-6)
    plain = ImageFolder(photos, image_size=224, mean=MEAN, std=STD).for_eval()
    np.testing.assert_allclose(plain[0][0], torchvision_eval(path, 224, 224), rtol=0,
                               atol=2e-6)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return finetune_image_folder(tmp_path_factory.mktemp("eval_resize"))


def test_checkpoint_records_eval_resize_and_predict_matches_validation(run):
    trainer, best, _ = run
    assert load_attrs(best)["eval_resize"] == 18   # floor(16 / 0.875)
    clf = load_classifier(best)
    assert clf.transform.eval_resize == 18
    val = trainer.val_set
    for i in range(len(val)):
        path = val.dataset.samples[val.indices[i]][0]
        assert clf.transform(path).tobytes() == np.asarray(val[i][0]).tobytes(), path


def test_a_file_from_before_the_key_keeps_resizing_to_image_size(run, tmp_path):
    trainer, best, root = run
    old = tmp_path / "old.h5"
    shutil.copy(best, old)
    with h5py.File(old, "r+") as f:
        del f.attrs["eval_resize"]
    clf = load_classifier(old)
    assert clf.transform.eval_resize is None and clf.transform.shorter_side == 16
    path = trainer.val_set.dataset.samples[0][0]
    legacy = ImageFolder(root, image_size=16).without_augment()
    assert clf.transform(path).tobytes() == np.asarray(legacy[0][0]).tobytes()


def test_a_stored_config_from_before_the_key_evaluates_as_it_validated(tmp_path):
    raw = _config(tmp_path, tmp_path / "run", image_size=16)
    assert "eval_resize" not in raw["data"]
    cfg = _config_of({"config": "stored", "config_dict": raw}, "old.h5", None, ())
    assert cfg.data.eval_resize == 16
    # a config that records the key (every checkpoint written now) is left as it is
    raw["data"]["eval_resize"] = None
    assert stored_eval_resize(raw)["data"]["eval_resize"] is None
    digits = {"data": {"dataset": "digits", "image_size": 32}}
    assert stored_eval_resize(digits) == digits


@pytest.mark.parametrize("data, message", [
    ({"image_size": 16, "eval_resize": 12}, "data.eval_resize: 12 is smaller than "
                                             "data.image_size 16"),
    ({"dataset": "digits", "root": None, "eval_resize": 40}, "data.eval_resize: works on "
                                                              "photos"),
])
def test_bad_eval_resize_is_one_line(tmp_path, data, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict(_config(tmp_path, tmp_path / "run", **data))
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith(message)


def test_eval_resize_keeps_the_feature_cache_on(tmp_path):
    """The eval policy is deterministic and acts on validation only: the train cache stays."""
    from minitorch.train.build import build_data, build_model
    root = make_image_folder(tmp_path / "images", 3)
    cfg = config_from_dict(_config(root, tmp_path / "run", eval_resize=20,
                                   augment={"horizontal_flip": True}))
    train_set, val_set, names, _, _ = build_data(cfg)
    model, _ = build_model(cfg, names)
    for p in model.parameters():
        p.requires_grad_(False)
    model.fc.requires_grad_(True)
    assert feature_cache_status(cfg, model, train_set) == (True, None)
    assert val_set.dataset.transform.transforms[0].size == 20


@pytest.mark.parametrize("suffix", [".h5", ".safetensors"])
def test_export_carries_eval_resize_and_its_absence(run, tmp_path, suffix):
    from minitorch.train.export import export_file
    _, best, _ = run
    old = tmp_path / "old.h5"
    shutil.copy(best, old)
    with h5py.File(old, "r+") as f:
        del f.attrs["eval_resize"]
    for source, expected in ((best, 18), (old, None)):
        out = tmp_path / f"{source.stem}_export{suffix}"
        export_file(source, out)
        assert load_classifier(out).transform.eval_resize == expected, source


def _train(cfg, tmp_path, name, resume=None, resume_anyway=False):
    import io
    from minitorch.train.config import load_config
    from minitorch.train.trainer import Trainer
    from .helpers import write_config
    trainer = Trainer(load_config(write_config(tmp_path / f"{name}.yaml", cfg)), resume=resume,
                      out=io.StringIO(), resume_anyway=resume_anyway)
    trainer.fit()
    return trainer


def test_resuming_a_run_from_before_the_key_keeps_its_validation(tmp_path, monkeypatch):
    from minitorch.train.config import Config
    from .helpers import checkpoint_arrays, assert_bitwise_equal
    root = make_image_folder(tmp_path / "images", per_class=4)
    # the old policy, stated: the shorter side to image_size (16), for 2 epochs
    whole = _config(root, tmp_path / "whole", eval_resize=16)
    whole["train"]["epochs"] = 2
    expected = _train(whole, tmp_path, "whole")
    # an old run: it validated at image_size, its checkpoints and config.yaml lack the key
    old = _config(root, tmp_path / "old", eval_resize=16)
    to_yaml = Config.to_yaml

    def without_key(config):
        import yaml
        raw = yaml.safe_load(to_yaml(config))
        del raw["data"]["eval_resize"]
        return yaml.safe_dump(raw, sort_keys=False)

    monkeypatch.setattr(Config, "to_yaml", without_key)
    _train(old, tmp_path, "old")
    monkeypatch.undo()
    del old["data"]["eval_resize"]
    old["train"]["epochs"] = 2   # resumed with the key unset, as the old run's config was
    resumed = _train(old, tmp_path, "old", resume="auto")
    log = resumed.out.getvalue()
    assert "note: data.eval_resize: 16, as this run validated before the key existed" in log
    assert [(r["val_loss"], r["val_acc"]) for r in resumed.history] == \
        [(r["val_loss"], r["val_acc"]) for r in expected.history]
    assert_bitwise_equal(checkpoint_arrays(tmp_path / "whole" / "last.h5"),
                         checkpoint_arrays(tmp_path / "old" / "last.h5"))
    assert "eval_resize: 16" in (tmp_path / "old" / "config.yaml").read_text()


def test_resuming_with_another_eval_resize_is_a_data_difference(tmp_path):
    from minitorch.train.errors import TrainerError
    root = make_image_folder(tmp_path / "images", per_class=4)
    cfg = _config(root, tmp_path / "run")
    _train(cfg, tmp_path, "run")              # the default: torchvision's 18 for 16
    cfg["train"]["epochs"], cfg["data"]["eval_resize"] = 2, 16
    with pytest.raises(TrainerError, match=r"data\.eval_resize: 18 -> 16\): fix the config, "
                                           r"or pass --resume-anyway"):
        _train(cfg, tmp_path, "run", resume="auto")
    cfg["data"]["eval_resize"] = 18           # torchvision's value, spelled out: the same
    assert len(_train(cfg, tmp_path, "run", resume="auto").history) == 2
