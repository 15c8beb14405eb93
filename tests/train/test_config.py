"""The config schema: defaults, overrides, round trips and every error message."""
import pytest
import yaml

from minitorch.train.config import (CONFIG_KEYS, Config, ConfigError, config_from_dict,
                                    config_from_yaml, config_keys_markdown, dump_config,
                                    load_config)


def _write(tmp_path, text, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(d):
    with pytest.raises(ConfigError) as info:
        config_from_dict(d)
    return info.value.problems


def test_defaults_for_an_empty_file(tmp_path):
    cfg = load_config(_write(tmp_path, ""))
    assert cfg == Config()
    assert cfg.seed == 0 and cfg.model.arch == "resnet18" and cfg.model.freeze == "none"
    assert cfg.data.dataset == "digits" and cfg.data.batch_size == 64
    assert cfg.train.optimizer.lr == 0.01 and cfg.train.scheduler.name == "none"
    assert cfg.train.feature_cache == "auto" and cfg.output.save_best is True


def test_every_key_has_a_documented_default():
    assert len(CONFIG_KEYS) >= 30
    for key, info in CONFIG_KEYS.items():
        assert info["doc"], key
    assert CONFIG_KEYS["train.optimizer.lr"]["default"] == 0.01
    table = config_keys_markdown()
    assert table.count("\n") == len(CONFIG_KEYS) + 2 and "`data.augment.padding`" in table


def test_file_values_and_typed_overrides(tmp_path):
    path = _write(tmp_path, "model: {variant: small, width: 16, freeze: backbone}\n"
                            "data: {classes: [5, 6, 7]}\ntrain: {optimizer: {lr: 0.1}}\n")
    cfg = load_config(path, overrides=["train.optimizer.lr=0.05", "model.freeze=none",
                                       "data.classes=[1,2]", "train.epochs=3",
                                       "data.augment.random_crop=true", "model.weights=null",
                                       "model.freeze=[layer1, layer2.0]"])
    assert cfg.train.optimizer.lr == 0.05 and cfg.model.width == 16
    assert cfg.data.classes == [1, 2] and cfg.train.epochs == 3
    assert cfg.data.augment.random_crop is True and cfg.model.weights is None
    assert cfg.model.freeze == ["layer1", "layer2.0"]
    assert load_config(path, ["model.freeze=none"]).model.freeze == "none"


def test_ints_widen_to_floats_and_yaml_exponents_are_numbers(tmp_path):
    cfg = load_config(_write(tmp_path, "train: {optimizer: {lr: 1e-3, momentum: 0}}"))
    assert cfg.train.optimizer.lr == 0.001 and isinstance(cfg.train.optimizer.momentum, float)


def test_to_dict_dump_and_reload_round_trip(tmp_path):
    cfg = load_config(_write(tmp_path, "data: {classes: [5, 9]}"), ["seed=7"])
    out = tmp_path / "resolved.yaml"
    dump_config(cfg, out)
    assert load_config(out) == cfg
    assert config_from_yaml(out.read_text()) == cfg
    assert yaml.safe_load(out.read_text()) == cfg.to_dict()
    assert cfg.to_dict()["data"]["classes"] == [5, 9]
    # The atomic write leaves no temporary file behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml", "resolved.yaml"]


def test_unknown_keys_get_suggestions():
    problems = _problems({"modle": {}, "train": {"optimzer": {"lr": 1.0}}})
    assert problems == ["modle: unknown key (did you mean 'model'?)",
                        "train.optimzer: unknown key (did you mean 'train.optimizer'?)"]
    (line,) = _problems({"data": {"zzz": 1}})
    assert line.startswith("data.zzz: unknown key (valid keys in data: dataset, root")


def test_wrong_types_name_key_and_value():
    problems = _problems({"train": {"epochs": 2.5, "optimizer": {"nesterov": "yes"}},
                          "model": {"width": True}, "data": {"classes": [1, [2]]}})
    assert "train.epochs: expected integer, got 2.5 (number)" in problems
    assert "train.optimizer.nesterov: expected boolean, got 'yes' (string)" in problems
    assert "model.width: expected integer, got True (boolean)" in problems
    assert "data.classes[1]: expected integer or string, got [2] (list)" in problems
    assert _problems({"model": []}) == ["model: expected a mapping of keys, got [] (list)"]


def test_out_of_range_and_choices():
    problems = _problems({"train": {"optimizer": {"lr": 0, "momentum": -0.5},
                                    "scheduler": {"name": "cosin"}, "label_smoothing": 1.0},
                          "data": {"val_fraction": 1.5, "batch_size": 0, "std": [0.2, 0.0, 1]}})
    assert problems == [
        "data.val_fraction: must be < 1.0, got 1.5",
        "data.batch_size: must be >= 1, got 0",
        "data.std: must be > 0.0, got 0.0",
        "train.optimizer.lr: must be > 0.0, got 0.0",
        "train.optimizer.momentum: must be >= 0.0, got -0.5",
        "train.scheduler.name: must be one of 'none', 'step', 'multistep', 'cosine', "
        "'exponential', 'polynomial', 'cosine_restarts', 'onecycle', 'plateau', got 'cosin' "
        "(did you mean 'cosine'?)",
        "train.label_smoothing: must be < 1.0, got 1.0",
    ]


def test_cross_key_rules():
    problems = _problems({"model": {"freeze": "everything"},
                          "data": {"dataset": "npz", "mean": [0.5, 0.5]},
                          "train": {"optimizer": {"nesterov": True, "momentum": 0.0},
                                    "scheduler": {"name": "multistep"}}})
    assert problems == [
        "model.freeze: must be 'none', 'backbone' or a list of prefixes, got 'everything'",
        "data.root: required when data.dataset is 'npz'",
        "data.mean: expected 1 or 3 values (model.in_channels), got 2",
        "data.mean, data.std: give both or neither",
        "train.optimizer.nesterov: needs momentum > 0 and dampening 0, got momentum 0.0 and "
        "dampening 0.0",
        "train.scheduler.milestones: required when train.scheduler.name is 'multistep'",
    ]
    assert _problems({"data": {"classes": [3, 11]}}) == [
        "data.classes: digits has classes 0-9, got 11"]


def test_several_problems_make_one_message_one_line_each(tmp_path):
    path = _write(tmp_path, "seed: -1\nmodel: {widht: 8}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["train.epochs=zero"])
    message = str(info.value)
    assert message.splitlines() == [
        f"{path}: 3 problems:",
        "  seed: must be >= 0, got -1",
        "  model.widht: unknown key (did you mean 'model.width'?)",
        "  train.epochs: expected integer, got 'zero' (string)",
    ]


def test_single_problem_is_one_line(tmp_path):
    path = _write(tmp_path, "output: {dir: 5}")
    with pytest.raises(ConfigError, match=r"^.*cfg.yaml: output.dir: expected string, got 5 "
                                          r"\(integer\)$"):
        load_config(path)


def test_missing_file_and_bad_yaml_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="config file not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    path = _write(tmp_path, "seed: 0\nmodel: {width: 8\ndata: 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+:\d+: invalid YAML: "):
        load_config(path)
    with pytest.raises(ConfigError, match="expected a mapping of keys, got 3"):
        load_config(_write(tmp_path, "3", "num.yaml"))


def test_bad_overrides_are_named(tmp_path):
    path = _write(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        load_config(path, ["train.epochs", "seed.x=1", "data.classes=[1,", "train.optimzer.lr=1"])
    assert info.value.problems == [
        "--set 'train.epochs': expected key.path=value",
        "data.classes: invalid YAML value '[1,' in --set (expected the node content, but found "
        "'<stream end>')",
        "seed: expected integer, got {'x': 1} (mapping)",
        "train.optimzer: unknown key (did you mean 'train.optimizer'?)",
    ]
    with pytest.raises(ConfigError, match="seed.x: seed is a value, not a section"):
        load_config(_write(tmp_path, "seed: 3", "seeded.yaml"), ["seed.x=1"])


def test_key_and_cross_key_problems_are_reported_together_without_misfires():
    problems = _problems({"data": {"dataset": "npzz", "classes": ["a"]},
                          "train": {"optimizer": {"nesterov": True, "momentum": 0.0},
                                    "epochs": 0}})
    assert problems == [
        "data.dataset: must be one of 'digits', 'image_folder', 'npz', got 'npzz' (did you mean "
        "'npz'?)",
        "train.epochs: must be >= 1, got 0",
        "train.optimizer.nesterov: needs momentum > 0 and dampening 0, got momentum 0.0 and "
        "dampening 0.0",
    ]


def test_readme_lists_every_config_key_as_the_schema_documents_it():
    from tests.train.helpers import REPO
    readme = (REPO / "README.md").read_text()
    assert config_keys_markdown().strip() in readme, \
        "README's Config keys table is stale: paste config_keys_markdown() into it"
