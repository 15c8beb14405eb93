"""The finetuning config: a typed schema with a documented default for every key.

    cfg = load_config("configs/digits_finetune.yaml", overrides=["train.optimizer.lr=0.05"])
    cfg.train.optimizer.lr          # 0.05
    dump_config(cfg, "runs/x/config.yaml")

A config file holds any subset of the keys below (missing keys take their defaults). Overrides are
``key.path=value`` strings whose value is parsed as YAML (``data.classes=[1,2]``,
``model.freeze=none``). Unknown keys, values of the wrong type and out-of-range values are all
reported together in one ``ConfigError``, one line per dotted key, with a "did you mean" for
misspellings; the rules tying several keys together are in ``config_rules.py``. ``CONFIG_KEYS`` documents every key (default, type, meaning) for the README table.
"""
import dataclasses
import os
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Union

import yaml

from minitorch.io.yaml_text import YamlInputError, parse_yaml
from .config_optim import OptimizerConfig, SchedulerConfig
from .config_recipes import EarlyStoppingConfig, FindLRConfig, LinearProbeConfig, UnfreezeStep
from .config_rules import cross_check
from .config_schema import build_section, describe_type, option

__all__ = ["Config", "ModelConfig", "DataConfig", "AugmentConfig", "TrainConfig",
           "OptimizerConfig", "SchedulerConfig", "OutputConfig", "ConfigError",
           "ConfigFileNotFoundError", "load_config", "config_from_dict", "config_from_yaml",
           "dump_config", "apply_overrides", "CONFIG_KEYS", "config_keys_markdown"]


# Upper bounds far above any real run, so that a typo (an extra zero, a wrong key) is one line
# here rather than an allocation traceback deep in the model; config_rules' memory rule refines
# them.
MAX_WIDTH = 4096
MAX_SIZE = 16384
MAX_COUNT = 1_000_000


class ConfigError(ValueError):
    """An invalid config; ``problems`` holds one line per offending key."""

    def __init__(self, message, problems=()):
        super().__init__(message)
        self.problems = list(problems)


class ConfigFileNotFoundError(FileNotFoundError, ConfigError):
    """The config file does not exist (catchable as ConfigError or FileNotFoundError)."""


@dataclass
class ModelConfig:
    arch: str = option("resnet18", "network architecture", choices=("resnet18",))
    variant: str = option("imagenet", "'imagenet': 7x7/2 stem + max-pool (torchvision); "
                          "'small': 3x3/1 stem, no max-pool (small images)",
                          choices=("imagenet", "small"))
    width: int = option(64, "channels of the first stage (64 = torchvision); every stage scales",
                        ge=1, le=MAX_WIDTH)
    in_channels: int = option(3, "channels of the input images", ge=1, le=MAX_SIZE)
    weights: Optional[str] = option(None, "weights to start from: a weights file, a checkpoint "
                                     "or a .safetensors file (null: random init)")
    num_classes: Optional[int] = option(None, "classes of the fc head (null: the number of "
                                        "classes in the data)", ge=1, le=MAX_COUNT)
    allow_nonfinite: bool = option(False, "load a weights file even if it holds NaN or Inf "
                                   "(refused by default, naming the tensor)")
    freeze: Union[str, List[str]] = option("none", "'none', 'backbone' (all but fc) or a list of "
                                           "parameter-name prefixes to freeze")


@dataclass
class AugmentConfig:
    random_crop: bool = option(False, "random crop of image_size after zero padding (train only)")
    padding: int = option(0, "pixels of zero padding on each side before the random crop", ge=0,
                          le=MAX_SIZE)
    horizontal_flip: bool = option(False, "mirror training images with probability 0.5")
    random_resized_crop: bool = option(False, "image_folder: torchvision's RandomResizedCrop to "
                                       "image_size (scale 0.08-1, ratio 3/4-4/3) in place of "
                                       "resize-and-crop; continuous: turns the feature cache off")
    color_jitter: Optional[List[float]] = option(
        None, "image_folder: ColorJitter [brightness, contrast, saturation, hue] (null: off); "
        "continuous: turns the feature cache off", nonempty=True, ge=0.0)
    rotation: float = option(0.0, "image_folder: RandomRotation by up to this many degrees "
                             "(0: off); continuous: turns the feature cache off", ge=0.0,
                             le=180.0)


@dataclass
class DataConfig:
    dataset: str = option("digits", "'digits' (bundled, no download), 'image_folder' "
                          "(root/<class>/<image>) or 'npz' (a file with arrays x, y)",
                          choices=("digits", "image_folder", "npz"))
    root: Optional[str] = option(None, "image folder or .npz file (required unless digits)")
    classes: Optional[List[Union[int, str]]] = option(
        None, "classes to use, in label order (digits: 0-9; folders: names; null: all)",
        nonempty=True)
    image_size: int = option(32, "side of the square images fed to the network", ge=1,
                            le=MAX_SIZE)
    eval_resize: Optional[int] = option(None, "image_folder: the shorter side validation "
                                        "(and predict/evaluate) resizes to before the centre "
                                        "crop of image_size (null: torchvision's Resize(256) + "
                                        "CenterCrop(224), image_size / 0.875)", ge=1,
                                        le=MAX_SIZE)
    val_fraction: float = option(0.2, "fraction of each class held out for validation "
                                 "(stratified, seeded)", gt=0.0, lt=1.0)
    batch_size: int = option(64, "samples per batch (per process under MPI)", ge=1,
                            le=MAX_COUNT)
    mean: Optional[List[float]] = option(None, "per-channel mean to normalise with (null: from "
                                         "the weights file, else the dataset's default)",
                                         nonempty=True)
    std: Optional[List[float]] = option(None, "per-channel std to normalise with (null: as "
                                        "mean)", nonempty=True, gt=0.0)
    augment: AugmentConfig = option(AugmentConfig(), "training-time augmentation")


@dataclass
class TrainConfig:
    epochs: int = option(10, "training epochs", ge=1, le=MAX_COUNT)
    optimizer: OptimizerConfig = option(OptimizerConfig(), "the optimizer")
    scheduler: SchedulerConfig = option(SchedulerConfig(), "the learning-rate scheduler")
    label_smoothing: float = option(0.0, "cross-entropy label smoothing", ge=0.0, lt=1.0)
    feature_cache: str = option("auto", "compute the longest frozen prefix of the network once "
                                "per (sample, augmentation view) and reuse it ('auto'), or "
                                "recompute it every epoch ('off')", choices=("auto", "off"))
    feature_cache_memory_mb: float = option(1024.0, "memory the cached prefix outputs may take; "
                                            "beyond it they go to a memory-mapped file in "
                                            "feature_cache_dir", ge=0.0)
    feature_cache_dir: Optional[str] = option(None, "folder of the memory-mapped cache files "
                                              "(null: <output.dir>/cache)")
    # The finetuning recipes (config_recipes.py, recipes/).
    unfreeze: List[UnfreezeStep] = option([], "gradual unfreezing: a list of {epoch, modules, "
                                          "lr_mult, warmup_epochs} steps")
    layer_lr: Dict[str, Union[float, str]] = option({}, "lr per parameter-name prefix: a number "
                                                    "or 'x0.1' (times train.optimizer.lr); the "
                                                    "longest matching prefix wins")
    layer_decay: Optional[float] = option(None, "layer-wise lr decay: lr x decay^depth, depth "
                                          "0 for fc, 1 for layer4 ... 5 for the stem (null: "
                                          "off)", gt=0.0, le=1.0)
    no_decay_norm_bias: bool = option(False, "no weight decay on norm weights and biases "
                                      "(every parameter of one dimension)")
    head_init: str = option("default", "'default' (the weights file's head or a new Linear) or "
                            "'linear_probe' (fit fc on the frozen features first)",
                            choices=("default", "linear_probe"))
    linear_probe: LinearProbeConfig = option(LinearProbeConfig(), "head_init: linear_probe")
    early_stopping: EarlyStoppingConfig = option(EarlyStoppingConfig(), "early stopping")
    find_lr: FindLRConfig = option(FindLRConfig(), "the --find-lr sweep")


@dataclass
class OutputConfig:
    dir: str = option("runs/finetune", "folder for config.yaml, checkpoints, metrics, plots")
    save_best: bool = option(True, "write best.h5 whenever val_acc improves")
    plot: bool = option(True, "write curves.png")


@dataclass
class Config:
    seed: int = option(0, "seed of every random choice (init, split, order, augmentation); "
                       "0 <= seed < 2**32, numpy's and torch's range", ge=0, lt=2**32)
    model: ModelConfig = option(ModelConfig(), "the network")
    data: DataConfig = option(DataConfig(), "the data")
    train: TrainConfig = option(TrainConfig(), "the training loop")
    output: OutputConfig = option(OutputConfig(), "where the run writes")

    def to_dict(self):
        """Plain nested dicts and lists (what dump_config writes)."""
        return dataclasses.asdict(self)

    def to_yaml(self):
        """The resolved config as YAML text, keys in schema order."""
        return yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False)


class _Dumper(yaml.SafeDumper):
    """Sections in block style, lists inline (``classes: [5, 6, 7]``), for a readable file."""


_Dumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data,
                                                         flow_style=True))


def _raise_if(problems, source):
    if not problems:
        return
    if len(problems) == 1:
        raise ConfigError(f"{source}: {problems[0]}", problems)
    lines = "\n".join(f"  {p}" for p in problems)
    raise ConfigError(f"{source}: {len(problems)} problems:\n{lines}", problems)


def config_from_dict(d, source="config"):
    """A validated Config from nested dicts (``source`` names it in error messages)."""
    problems = []
    cfg = build_section(Config, d, "", problems)
    cross_check(cfg, problems)
    _raise_if(problems, source)
    return cfg


def config_from_yaml(text, source="config"):
    """A validated Config from YAML text (e.g. the one stored in a checkpoint)."""
    return config_from_dict(_parse_yaml(text, source), source)


def _parse_yaml(text, source):
    try:
        return parse_yaml(text, source)
    except YamlInputError as exc:
        raise ConfigError(str(exc)) from None


def apply_overrides(raw, overrides, problems):
    """Set each ``key.path=value`` (value parsed as YAML) in the nested dict ``raw``."""
    for item in overrides:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            problems.append(f"--set {item!r}: expected key.path=value")
            continue
        try:
            value = parse_yaml(text, f"--set {key}") if text.strip() else None
        except YamlInputError as exc:
            detail = exc.detail.removeprefix("invalid YAML: ")
            shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
            problems.append(f"{key}: invalid YAML value {shown} in --set ({detail})")
            continue
        node, parts = raw, key.split(".")
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                problems.append(f"{key}: {'.'.join(parts[:depth + 1])} is a value, not a "
                                "section")
                break
            node = child
        else:
            node[parts[-1]] = value
    return raw


def load_config(path, overrides=()):
    """Read ``path`` (YAML, see ``minitorch.io.yaml_text``), apply ``overrides`` and validate: a Config."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigFileNotFoundError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    raw = _parse_yaml(text, path)
    if raw is None:
        raw = {}
    problems = []
    if isinstance(raw, dict):
        apply_overrides(raw, overrides, problems)
    cfg = build_section(Config, raw, "", problems)
    cross_check(cfg, problems)
    _raise_if(problems, path)
    return cfg


def dump_config(config, path):
    """Write the resolved config as YAML, atomically (temporary file, fsync, rename)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".yaml.tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(config.to_yaml())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _walk_keys(cls, prefix=""):
    import typing
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _walk_keys(hints[f.name], key + ".")
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        meta = f.metadata
        yield key, {"default": default, "type": describe_type(hints[f.name]),
                    "choices": meta.get("choices"), "doc": meta["doc"]}


CONFIG_KEYS = dict(_walk_keys(Config))


def config_keys_markdown():
    """The table of every config key (default, type, meaning) as Markdown."""
    rows = ["| key | default | type | meaning |", "|---|---|---|---|"]
    for key, info in CONFIG_KEYS.items():
        default = yaml.safe_dump(info["default"], default_flow_style=True).strip()
        default = default.removesuffix("\n...").removesuffix("...").strip()
        kind = info["type"]
        if info["choices"]:
            kind = " \\| ".join(f"`{c}`" for c in info["choices"])
        rows.append(f"| `{key}` | `{default}` | {kind} | {info['doc']} |")
    return "\n".join(rows) + "\n"
