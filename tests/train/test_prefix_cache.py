"""The frozen prefix: which children it holds, that prefix + rest is the model, and that a
dataset names each sample's augmentation view before making it."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.data.fetch import SampleRngs
from minitorch.train.freeze import apply_freeze, resolve_freeze
from minitorch.train.prefix_cache import frozen_prefix, run_children, suffix_names
from models import resnet18


def _frozen(spec):
    mt.manual_seed(0)
    model = resnet18(num_classes=3, variant="small", width=4)
    plan = resolve_freeze(model, spec)
    apply_freeze(model, plan)
    return model, plan


@pytest.mark.parametrize("spec, expected", [
    ("backbone", ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                  "avgpool"]),
    (["conv1", "bn1"], ["conv1", "bn1", "relu", "maxpool"]),   # parameter-free children join
    (["conv1", "bn1", "layer1", "layer2", "layer3"],
     ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3"]),
    (["conv1", "layer1"], ["conv1"]),                          # bn1 trains: the prefix ends
    (["layer1", "layer2"], []),                                # conv1 trains: no prefix
    ("none", []),
])
def test_frozen_prefix_is_the_longest_frozen_run_from_the_input(spec, expected):
    model, plan = _frozen(spec)
    assert frozen_prefix(model, plan.frozen_bn) == expected


def test_unfreezing_a_stage_shrinks_the_prefix():
    model, plan = _frozen(["conv1", "bn1", "layer1", "layer2", "layer3"])
    model.layer2.requires_grad_(True)
    assert frozen_prefix(model, plan.frozen_bn)[-1] == "layer1"


def test_a_batchnorm_that_is_not_kept_in_eval_mode_ends_the_prefix():
    model, plan = _frozen(["conv1", "bn1", "layer1"])
    bns = [n for n in plan.frozen_bn if not n.startswith("layer1.1")]
    assert frozen_prefix(model, bns) == ["conv1", "bn1", "relu", "maxpool"]


@pytest.mark.parametrize("variant, size", [("small", 8), ("imagenet", 32)])
@pytest.mark.parametrize("cut", [1, 2, 4, 7, 9])
def test_prefix_then_rest_is_the_model(variant, size, cut):
    mt.manual_seed(0)
    model = resnet18(num_classes=3, variant=variant, width=4).eval()
    model.requires_grad_(False)
    x = mt.randn(3, 3, size, size)
    names = [n for n, _ in model.named_children()]
    with mt.no_grad():
        rest = run_children(model, names[:cut], x)
        split = run_children(model, suffix_names(names[:cut]), rest)
        whole = model(x)
    if cut == 1:   # bn1 apart from conv1: not folded into it, so equal to rounding only
        np.testing.assert_allclose(split.numpy(), whole.numpy(), rtol=1e-5, atol=1e-6)
    else:          # the same calls as forward: the same bits
        assert split.numpy().tobytes() == whole.numpy().tobytes()


def test_a_model_of_another_layout_has_no_prefix():
    model = mt.nn.Sequential(mt.nn.Conv2d(3, 4, 3), mt.nn.ReLU())
    model.requires_grad_(False)
    assert frozen_prefix(model) == []


def _digits(augment):
    from minitorch.data import Digits
    from minitorch.data.build import augment_transform
    from minitorch.train.config import AugmentConfig
    return Digits([3, 4], 8, augment=augment_transform(8, AugmentConfig(**augment)))


def test_view_keys_name_the_augmented_sample_before_it_is_made():
    data = _digits({"random_crop": True, "padding": 2, "horizontal_flip": True})
    plain = data.without_augment()
    positions = np.arange(40)
    keys = data.view_keys(positions, SampleRngs(5, 3, positions))
    images, _ = data.get_batch(positions, SampleRngs(5, 3, positions))
    padded = np.pad(plain.images[positions], ((0, 0), (0, 0), (2, 2), (2, 2)))
    for k, ((top, left), flip) in enumerate(keys):
        expect = padded[k, :, top:top + 8, left:left + 8]
        expect = expect[..., ::-1] if flip else expect
        assert np.array_equal(images[k], plain.normalize(expect))
    assert len(set(keys)) > 10          # the draws really vary
    assert data.view_keys(positions, SampleRngs(5, 3, positions)) == keys   # a pure function


def test_a_deterministic_dataset_has_one_view():
    data = _digits({})
    assert data.view_keys([0, 1], SampleRngs(0, 1, [0, 1])) == [(), ()]
    assert data.augment_continuous is None


def test_a_file_store_grows_and_reopens_with_its_rows(tmp_path):
    from minitorch.train.cache_store import FileStore
    key, said = {"weights": "a"}, []
    store = FileStore(tmp_path, "rows", (2, 3), 1, key, said.append)
    rows = np.arange(30, dtype=np.float32).reshape(5, 2, 3)
    for i, row in enumerate(rows):
        store.add(f"e{i}", row)   # past the first capacity of 1: the file is extended
    store.close()
    again = FileStore(tmp_path, "rows", (2, 3), 1, key, said.append)
    assert np.array_equal(again.read([f"e{i}" for i in range(5)]), rows)
    assert said == [f"feature cache: reusing 5 rows of {tmp_path / 'rows.bin'}"]
    again.close()
    FileStore(tmp_path, "rows", (2, 3), 1, {"weights": "b"}, said.append).close()
    assert said[-1].endswith("was built for other weights (stale): rebuilding")


def test_the_image_folder_template_takes_the_cached_path(tmp_path):
    from minitorch.data import build_datasets
    from minitorch.train.config import load_config
    from minitorch.train.feature_cache import feature_cache_status
    from tests.train.helpers import REPO
    from tests.train.image_helpers import make_image_folder
    root = make_image_folder(tmp_path / "images", per_class=5)
    config = load_config(REPO / "configs/imagefolder_finetune.yaml",
                         overrides=[f"data.root={root}", "data.image_size=16"])
    assert config.data.augment.horizontal_flip and config.train.feature_cache == "auto"
    model, plan = _frozen(config.model.freeze)
    train_set, _, _ = build_datasets(config.data)
    assert train_set.is_random and feature_cache_status(config, model, train_set) == (True, None)
    assert frozen_prefix(model, plan.frozen_bn)[-1] == "avgpool"


@pytest.mark.parametrize("augment, count", [
    ({"horizontal_flip": True}, 2),
    ({"random_crop": True, "padding": 2, "horizontal_flip": True}, 50),   # 5x5 offsets x 2
])
def test_every_view_of_a_sample_is_the_one_its_draw_makes(augment, count):
    data = _digits(augment)
    positions = np.arange(30)
    drawn = data.view_keys(positions, SampleRngs(2, 1, positions))
    images, _ = data.get_batch(positions, SampleRngs(2, 1, positions))
    assert data.views(0, 1) is None                       # more than the limit
    for k, key in enumerate(drawn):
        keys = data.views(k, 100)
        assert len(keys) == count and len(set(keys)) == count and key in keys
        views = data.get_views(k, keys)
        assert views.tobytes() == np.stack([data.get_views(k, [v])[0] for v in keys]).tobytes()
        assert views[keys.index(key)].tobytes() == images[k].tobytes()


def test_an_image_folders_views_are_its_drawn_images_bitwise(tmp_path):
    from minitorch.data import ImageFolder, Subset
    from tests.train.image_helpers import make_image_folder
    root = make_image_folder(tmp_path / "images", per_class=4)
    data = Subset(ImageFolder(root, image_size=16, horizontal_flip=True), [5, 1, 6])
    positions = np.arange(3)
    drawn = data.view_keys(positions, SampleRngs(0, 4, positions))
    images, _ = data.get_batch(positions, SampleRngs(0, 4, positions))
    for k, key in enumerate(drawn):
        keys = data.views(k, 4)
        assert keys == [(False,), (True,)]
        views = data.get_views(k, keys)
        assert views[keys.index(key)].tobytes() == images[k].tobytes()
        assert views[1].tobytes() == np.ascontiguousarray(views[0][..., ::-1]).tobytes()
