"""Hostile and careless configs: each is one line naming the key (and line), never a traceback,
a hang or an allocation; the CLI exits 2 and writes nothing."""
import pytest

from minitorch.train.config import ConfigError, load_config

from .helpers import (assert_one_line_error, finetune, finetune_baseline, snapshot,  # noqa: F401
                      tiny_config, write_yaml)

ALIAS_BOMB = "\n".join(
    [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]) + "\n"


def _load(tmp_path, text, overrides=()):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    message = str(info.value)
    assert "\n" not in message, message
    return message.removeprefix(f"{path}")


def test_alias_bomb_is_refused_before_expansion(tmp_path):
    assert len(ALIAS_BOMB) < 500   # 9**9 values if expanded
    assert _load(tmp_path, ALIAS_BOMB).endswith(
        "expands to more than 100000 values through aliases (an alias bomb?)")


def test_alias_that_contains_itself_is_refused(tmp_path):
    assert "data.classes[1] is an alias of a value that contains it (a cycle)" in _load(
        tmp_path, "data:\n  classes: &c [1, *c]\n")


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    assert _load(tmp_path, "seed: " + "[" * 5000 + "]" * 5000 + "\n") == \
        ":1: nested deeper than 64 levels"
    # 1,100 levels already overflow the stack of a recursive loader (plain yaml.safe_load
    # raises RecursionError) in a 1.2 MB file; 5,000 made a 25 MB one
    deep_block = "".join(f"{'  ' * i}k{i}:\n" for i in range(1100))
    assert _load(tmp_path, deep_block) == ":65: nested deeper than 64 levels"


def test_ordinary_aliases_still_work(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("data:\n  mean: &m [0.5, 0.5, 0.5]\n  std: *m\n")
    assert load_config(path).data.std == [0.5, 0.5, 0.5]


def test_duplicate_key_names_both_lines(tmp_path):
    text = "model:\n  width: 8\nseed: 1\nmodel:\n  width: 16\n"
    assert _load(tmp_path, text) == (":4: duplicate key 'model' (first at line 1; the second "
                                     "would silently replace the first)")
    nested = "train:\n  optimizer:\n    lr: 0.1\n    momentum: 0.9\n    lr: 0.2\n"
    assert _load(tmp_path, nested).startswith(
        ":5: duplicate key 'train.optimizer.lr' (first at line 3;")


def test_duplicate_key_inside_a_set_value_is_named(tmp_path):
    assert "data.mean: invalid YAML value '{a: 1, a: 2}' in --set (duplicate key 'a'" in _load(
        tmp_path, "seed: 0\n", ["data.mean={a: 1, a: 2}"])


@pytest.mark.parametrize("key, section", [
    ("lr", "train:\n  optimizer:\n    lr: .inf\n"),
    ("momentum", "train:\n  optimizer:\n    momentum: .nan\n"),
    ("weight_decay", "train:\n  optimizer:\n    weight_decay: .inf\n"),
    ("gamma", "train:\n  scheduler:\n    gamma: -.inf\n"),
    ("label_smoothing", "train:\n  label_smoothing: .nan\n"),
])
def test_non_finite_numbers_are_out_of_range(tmp_path, key, section):
    assert f"{key}: must be a finite number, got " in _load(tmp_path, section)


def test_non_finite_list_element_is_named(tmp_path):
    text = "data:\n  mean: [0.5, .inf, 0.5]\n  std: [1, 1, 1]\n"
    assert _load(tmp_path, text).endswith("data.mean[1]: must be a finite number, got inf")


@pytest.mark.parametrize("seed, ok", [(0, True), (2**32 - 1, True), (2**32, False),
                                      (2**64, False), (-1, False)])
def test_seed_range_is_numpy_and_torch_range(tmp_path, seed, ok):
    path = tmp_path / "cfg.yaml"
    path.write_text(f"seed: {seed}\n")
    if ok:
        assert load_config(path).seed == seed
    else:
        with pytest.raises(ConfigError, match=r"seed: must be (>= 0|< 4294967296), got"):
            load_config(path)


def test_unquoted_off_gets_a_quoting_hint(tmp_path):
    message = _load(tmp_path, "train:\n  feature_cache: off\n")
    assert message.endswith("train.feature_cache: expected string, got False (boolean); YAML "
                            "reads unquoted yes/no/on/off as booleans: quote the word, "
                            "e.g. 'off'")
    path = tmp_path / "q.yaml"
    path.write_text("train:\n  feature_cache: 'off'\n")
    assert load_config(path).train.feature_cache == "off"


def test_boolean_where_no_string_is_wanted_gets_no_hint(tmp_path):
    assert "YAML reads" not in _load(tmp_path, "train:\n  epochs: yes\n")


@pytest.mark.parametrize("text, expected", [
    ("model:\n  width: 100000\n", "model.width: must be <= 4096, got 100000"),
    ("data:\n  image_size: 1000000\n", "data.image_size: must be <= 16384, got 1000000"),
    ("train:\n  epochs: 1000000000000\n", "train.epochs: must be <= 1000000, got 1000000000000"),
])
def test_sizes_are_bounded(tmp_path, text, expected):
    assert _load(tmp_path, text).endswith(expected)


def test_a_model_larger_than_memory_is_refused_by_estimate(tmp_path):
    message = _load(tmp_path, "model:\n  width: 4096\n")
    assert "model.width 4096: the weights, gradients and momentum need at least" in message
    assert "of memory here" in message


def test_cli_alias_bomb_is_one_line_fast_and_small(tmp_path, finetune_baseline):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier run")
    before = snapshot(out)
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(f"output:\n  dir: {out}\n" + ALIAS_BOMB)
    outcome = finetune(cfg, timeout=60)
    assert_one_line_error(outcome, "an alias bomb", baseline=finetune_baseline)
    assert snapshot(out) == before


def test_cli_duplicate_section_writes_nothing(tmp_path):
    out = tmp_path / "out"
    cfg = write_yaml(tmp_path / "c.yaml", tiny_config(out))
    cfg.write_text(cfg.read_text() + "model:\n  width: 8\n")
    line = assert_one_line_error(finetune(cfg), "duplicate key 'model'", "first at line 2")
    assert line.startswith(f"error: {cfg}:")
    assert not out.exists()


def test_cli_seed_out_of_range_and_deep_set_value(tmp_path):
    cfg = write_yaml(tmp_path / "c.yaml", tiny_config(tmp_path / "out", seed=2**32))
    assert_one_line_error(finetune(cfg, "--set", "data.mean=" + "[" * 5000),
                          "seed: must be < 4294967296", "nested deeper than 64 levels")
    assert not (tmp_path / "out").exists()
