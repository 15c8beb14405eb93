"""Training checkpoints: everything an exact resume needs, in one atomically written HDF5 file.

Layout (DESIGN section 3), all entries readable with ``mt.load(path)``:

``/model``              the model's state dict, in the weights layout
``/optimizer``          ``{"state": {name: {...}}, "param_groups": [{..., "params": [names]}]}``
``/scheduler``          the scheduler's ``state_dict()`` (or None)
``/epoch``, ``/global_step``   ints
``/config``             the resolved config as YAML text (or None)
``/frozen_parameters``  names of the model parameters with ``requires_grad`` False
``/rng``                minitorch's, numpy's global and Python's ``random`` states
``/extra``              anything else the caller wants back (a dict)

The optimizer state is keyed by parameter *name* rather than PyTorch's position index, so a
checkpoint still loads when a different set of parameters is frozen (positions shift, names
do not). ``format_version`` is a root attribute, as in every minitorch file.
"""
import dataclasses
import random
from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import yaml

from .errors import CorruptFileError
from .serialization import CHECKPOINT_FORMAT, FORMAT_VERSION, load, load_attrs, save
from .yaml_text import YamlInputError, parse_yaml

__all__ = ["save_checkpoint", "load_checkpoint", "optimizer_state_by_name",
           "load_optimizer_state_by_name", "OptimizerLoadResult", "capture_rng_state",
           "restore_rng_state", "frozen_parameter_names", "validate_checkpoint", "MAX_EPOCH"]


class OptimizerLoadResult(NamedTuple):
    """Names the loaded optimizer state could not pair up (both empty for an exact match)."""
    missing: list      # parameters in the optimizer that the checkpoint's groups did not hold
    unexpected: list   # parameters the checkpoint's groups held that the optimizer no longer does


def _param_names(model) -> dict:
    return {id(p): name for name, p in model.named_parameters()}


def _name_of(names, p, group_index, position):
    if id(p) not in names:
        raise ValueError(f"optimizer parameter group {group_index} holds a parameter of shape "
                         f"{tuple(p.shape)} (position {position}) that is not in the model")
    return names[id(p)]


def optimizer_state_by_name(optimizer, model) -> dict:
    """``optimizer.state_dict()`` with every parameter index replaced by its name in ``model``."""
    names = _param_names(model)
    packed = optimizer.state_dict()
    index_to_name = {}
    groups = []
    for g, (saved, group) in enumerate(zip(packed["param_groups"], optimizer.param_groups)):
        for j, (index, p) in enumerate(zip(saved["params"], group["params"])):
            index_to_name[index] = _name_of(names, p, g, j)
        hyper = {k: v for k, v in saved.items() if k not in ("params", "param_names")}
        hyper["params"] = [index_to_name[i] for i in saved["params"]]
        groups.append(hyper)
    state = {index_to_name[i]: entry for i, entry in packed["state"].items()}
    return {"state": state, "param_groups": groups}


def load_optimizer_state_by_name(optimizer, model, state: Mapping) -> OptimizerLoadResult:
    """Load a state made by ``optimizer_state_by_name`` into ``optimizer``.

    Groups are matched by position (their hyperparameters, e.g. a scheduled lr, come from the
    checkpoint); parameters by name. A parameter newly added to the optimizer starts without
    state; state of a parameter no longer in it is dropped. Both are reported, not raised.
    """
    saved_groups = list(state["param_groups"])
    if len(saved_groups) != len(optimizer.param_groups):
        raise ValueError(f"checkpoint optimizer has {len(saved_groups)} parameter groups, the "
                         f"optimizer has {len(optimizer.param_groups)}")
    names = _param_names(model)
    current = optimizer.state_dict()
    saved_state = state["state"]
    new_state, new_groups, current_names = {}, [], []
    for g, (saved, packed, group) in enumerate(zip(saved_groups, current["param_groups"],
                                                   optimizer.param_groups)):
        for j, (index, p) in enumerate(zip(packed["params"], group["params"])):
            name = _name_of(names, p, g, j)
            current_names.append(name)
            if name in saved_state:
                new_state[index] = saved_state[name]
        hyper = {k: v for k, v in saved.items() if k not in ("params", "param_names")}
        hyper["params"] = list(packed["params"])
        new_groups.append(hyper)
    optimizer.load_state_dict({"state": new_state, "param_groups": new_groups})
    saved_names = [n for group in saved_groups for n in group["params"]]
    return OptimizerLoadResult(missing=[n for n in current_names if n not in set(saved_names)],
                               unexpected=[n for n in saved_names if n not in set(current_names)])


def capture_rng_state() -> dict:
    """Every RNG state that influences training: minitorch's generator, numpy's global RNG
    (legacy ``np.random.*`` functions) and Python's ``random``; plain numbers and arrays."""
    from .. import random as mt_random  # late: minitorch/__init__ imports this package

    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "minitorch": mt_random.get_rng_state(),
        "numpy": {"bit_generator": str(name), "keys": np.array(keys, dtype=np.uint32),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": int(version), "state": np.array(internal, dtype=np.int64),
                   "gauss_next": gauss_next},
    }


def restore_rng_state(state: Mapping) -> None:
    """Restore what ``capture_rng_state`` returned (parts that are absent are left alone)."""
    from .. import random as mt_random

    if "minitorch" in state:
        mt_random.set_rng_state(state["minitorch"])
    if "numpy" in state:
        s = state["numpy"]
        np.random.set_state((s["bit_generator"], np.asarray(s["keys"], dtype=np.uint32),
                             int(s["pos"]), int(s["has_gauss"]), float(s["cached_gaussian"])))
    if "python" in state:
        s = state["python"]
        internal = tuple(int(x) for x in np.asarray(s["state"]).tolist())
        random.setstate((int(s["version"]), internal, s["gauss_next"]))


def frozen_parameter_names(model) -> list:
    """Names of the model's parameters that do not require grad, in registration order."""
    return [name for name, p in model.named_parameters() if not p.requires_grad]


def _plain(value):
    # yaml.safe_dump refuses tuples and numpy scalars; configs only need plain containers.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _config_text(config):
    if config is None or isinstance(config, str):
        return config
    if callable(getattr(config, "to_yaml", None)):  # the trainer's Config renders itself
        return config.to_yaml()
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if isinstance(config, Mapping):
        return yaml.safe_dump(_plain(config), sort_keys=False)
    raise TypeError(f"config must be YAML text, a dict, a dataclass or have to_yaml(), got "
                    f"{type(config).__name__}")


def save_checkpoint(path, *, model, optimizer=None, scheduler=None, epoch, global_step,
                    config=None, rng=None, extra=None, attrs=None) -> None:
    """Write a checkpoint atomically; ``rng=None`` captures the current RNG states."""
    obj = OrderedDict()
    obj["model"] = model.state_dict()
    obj["optimizer"] = None if optimizer is None else optimizer_state_by_name(optimizer, model)
    obj["scheduler"] = None if scheduler is None else scheduler.state_dict()
    obj["epoch"] = int(epoch)
    obj["global_step"] = int(global_step)
    obj["config"] = _config_text(config)
    obj["frozen_parameters"] = frozen_parameter_names(model)
    obj["rng"] = capture_rng_state() if rng is None else rng
    obj["extra"] = {} if extra is None else extra
    save(obj, path, attrs=attrs, _format=CHECKPOINT_FORMAT)


def load_checkpoint(path) -> dict:
    """Read a checkpoint: the entries above plus ``config_dict`` (the YAML parsed, or None)
    and ``format_version``. Apply the parts with ``model.load_state_dict(ckpt["model"])``,
    ``load_optimizer_state_by_name``, ``scheduler.load_state_dict`` and ``restore_rng_state``."""
    attrs = load_attrs(path)
    if attrs.get("format") != CHECKPOINT_FORMAT:
        raise CorruptFileError(f"'{path}': not a checkpoint (format {attrs.get('format')!r}); "
                               f"weights files load with mt.load")
    ckpt = load(path)
    if not isinstance(ckpt, Mapping):
        raise CorruptFileError(f"'{path}': checkpoint root is a {type(ckpt).__name__}, not a dict")
    ckpt = dict(ckpt)
    missing = [k for k in ("model", "epoch", "global_step") if k not in ckpt]
    if missing:
        raise CorruptFileError(f"'{path}': checkpoint lacks {', '.join(missing)}")
    ckpt["config_dict"] = validate_checkpoint(ckpt, path)
    ckpt["format_version"] = int(attrs.get("format_version", FORMAT_VERSION))
    return ckpt


# An epoch count no real run reaches; larger values are a damaged or crafted file (and would
# make a resume replay the lr schedule for ever).
MAX_EPOCH = 10 ** 6


def _field_error(path, field, expected, value):
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return CorruptFileError(f"'{path}': checkpoint field '{field}' must be {expected}, "
                            f"got {shown}")


def _check_count(ckpt, path, field, upper):
    value = ckpt[field]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not 0 <= int(value) <= upper:
        raise _field_error(path, field, f"an integer in [0, {upper}]", value)
    ckpt[field] = int(value)


def _check_optimizer(opt, path):
    if opt is None:
        return
    if not isinstance(opt, Mapping) or not isinstance(opt.get("state"), Mapping) \
            or not isinstance(opt.get("param_groups"), (list, tuple)):
        raise _field_error(path, "optimizer", "a dict with 'state' (dict) and 'param_groups' "
                           "(list)", opt)
    for i, group in enumerate(opt["param_groups"]):
        if not isinstance(group, Mapping) or not isinstance(group.get("params"), (list, tuple)) \
                or not all(isinstance(n, str) for n in group["params"]):
            raise _field_error(path, f"optimizer.param_groups[{i}]",
                               "a dict whose 'params' is a list of parameter names", group)
    for name, entry in opt["state"].items():
        if not isinstance(entry, Mapping):
            raise _field_error(path, f"optimizer.state.{name}", "a dict", entry)


def _check_rng(rng, path):
    """Restore the states on trial (then put the current ones back): whatever the setters
    refuse is named now, before the run writes anything."""
    if not isinstance(rng, Mapping):
        raise _field_error(path, "rng", "a dict of RNG states", rng)
    saved = capture_rng_state()
    for part in ("minitorch", "numpy", "python"):
        if part not in rng:
            continue
        try:
            restore_rng_state({part: rng[part]})
        except (TypeError, ValueError, KeyError, IndexError, OverflowError,
                AttributeError) as exc:
            raise CorruptFileError(f"'{path}': checkpoint field 'rng.{part}' is not a valid "
                                   f"RNG state ({type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:80] if str(exc) else ''})") \
                from None
        finally:
            restore_rng_state(saved)


def _parse_config(text, path):
    if text is None:
        return None
    if not isinstance(text, str):
        raise _field_error(path, "config", "YAML text", text)
    try:
        parsed = parse_yaml(text, "the stored config")
    except YamlInputError as exc:   # bounded: an alias bomb here is refused, not expanded
        raise CorruptFileError(f"'{path}': checkpoint field 'config' is not valid YAML: {exc}") \
            from None
    if parsed is not None and not isinstance(parsed, Mapping):
        raise _field_error(path, "config", "a YAML mapping", parsed)
    return parsed


def validate_checkpoint(ckpt, path) -> dict:
    """Check every field's type and range (one error naming the first bad field) and return
    the stored config parsed (or None). ``epoch`` and ``global_step`` become plain ints."""
    if not isinstance(ckpt["model"], Mapping) or not ckpt["model"]:
        raise _field_error(path, "model", "a non-empty state dict", type(ckpt["model"]).__name__)
    _check_count(ckpt, path, "epoch", MAX_EPOCH)
    _check_count(ckpt, path, "global_step", np.iinfo(np.int64).max)
    _check_optimizer(ckpt.get("optimizer"), path)
    if ckpt.get("scheduler") is not None and not isinstance(ckpt["scheduler"], Mapping):
        raise _field_error(path, "scheduler", "a dict (a scheduler's state_dict) or None",
                           ckpt["scheduler"])
    frozen = ckpt.get("frozen_parameters", [])
    if not isinstance(frozen, (list, tuple)) or not all(isinstance(n, str) for n in frozen):
        raise _field_error(path, "frozen_parameters", "a list of parameter names", frozen)
    if "rng" in ckpt:
        _check_rng(ckpt["rng"], path)
    if ckpt.get("extra") is not None and not isinstance(ckpt["extra"], Mapping):
        raise _field_error(path, "extra", "a dict", ckpt["extra"])
    return _parse_config(ckpt.get("config"), path)
