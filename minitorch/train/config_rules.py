"""The finetuning config's cross-key rules: checks that read several keys at once.

Each rule takes the built ``Config`` and returns one problem line (``key: what is wrong``) or
None. ``cross_check`` runs them all after every key passed its own type and range checks, and
skips a rule when one of the keys it reads already has a problem (that key fell back to its
default, so the rule would report a value the user never gave).
"""
from minitorch.data.transforms import eval_resize_for

from .config_optim import optimizer_rules, scheduler_rules
from .config_recipes import recipe_rules
from .memory_budget import format_bytes, memory_limit_bytes, training_bytes

__all__ = ["cross_check"]


def _freeze_rule(cfg):
    freeze = cfg.model.freeze
    if isinstance(freeze, str) and freeze not in ("none", "backbone"):
        return f"model.freeze: must be 'none', 'backbone' or a list of prefixes, got {freeze!r}"
    if isinstance(freeze, list) and (not freeze or any(not p for p in freeze)):
        return "model.freeze: a list of prefixes must hold non-empty names"
    return None


def _root_rule(cfg):
    if cfg.data.dataset != "digits" and not cfg.data.root:
        return f"data.root: required when data.dataset is {cfg.data.dataset!r}"
    return None


def _digit_classes_rule(cfg):
    if cfg.data.dataset == "digits" and cfg.data.classes is not None:
        for c in cfg.data.classes:
            if not isinstance(c, int) or not 0 <= c <= 9:
                return f"data.classes: digits has classes 0-9, got {c!r}"
    return None


def _unique_classes_rule(cfg):
    classes = cfg.data.classes
    if classes is not None and len(set(map(str, classes))) != len(classes):
        return f"data.classes: a class is listed twice in {classes}"
    return None


def _stats_length_rule(cfg):
    data, channels = cfg.data, cfg.model.in_channels
    for key in ("mean", "std"):
        values = getattr(data, key)
        if values is not None and len(values) not in (1, channels):
            return (f"data.{key}: expected 1 or {channels} values (model.in_channels), "
                    f"got {len(values)}")
    return None


def _stats_pair_rule(cfg):
    if (cfg.data.mean is None) != (cfg.data.std is None):
        return "data.mean, data.std: give both or neither"
    return None


def _memory_rule(cfg):
    m, d = cfg.model, cfg.data
    params, activations = training_bytes(m.width, m.in_channels, m.variant, m.num_classes,
                                         d.image_size, d.batch_size)
    limit = memory_limit_bytes()
    if limit is None or params + activations <= limit:
        return None
    if params >= activations:
        what = f"model.width {m.width}: the weights, gradients and momentum need"
    else:
        what = (f"data.batch_size {d.batch_size} at data.image_size {d.image_size} "
                f"(model.width {m.width}): one training step needs")
    return (f"{what} at least {format_bytes(params + activations)}, more than the "
            f"{format_bytes(limit)} of memory here")


def _photo_augment_rule(cfg):
    a = cfg.data.augment
    used = [k for k, on in (("random_resized_crop", a.random_resized_crop),
                            ("color_jitter", a.color_jitter), ("rotation", a.rotation)) if on]
    if used and cfg.data.dataset != "image_folder":
        return (f"data.augment.{used[0]}: works on photos (data.dataset: image_folder), not on "
                f"{cfg.data.dataset!r}")
    if a.color_jitter is not None and len(a.color_jitter) != 4:
        return (f"data.augment.color_jitter: expected [brightness, contrast, saturation, hue], "
                f"got {len(a.color_jitter)} values")
    if a.color_jitter is not None and a.color_jitter[3] > 0.5:
        return f"data.augment.color_jitter: hue must be <= 0.5, got {a.color_jitter[3]!r}"
    if a.random_resized_crop and a.random_crop:
        return "data.augment.random_resized_crop: give it or random_crop, not both"
    return None


def _eval_resize_rule(cfg):
    d = cfg.data
    if d.eval_resize is None:
        return None
    if d.dataset != "image_folder":
        return (f"data.eval_resize: works on photos (data.dataset: image_folder); {d.dataset!r} "
                f"images are resized square to data.image_size")
    if d.eval_resize < d.image_size:
        return (f"data.eval_resize: {d.eval_resize} is smaller than data.image_size "
                f"{d.image_size}, the centre crop it is resized for; use at least "
                f"{d.image_size} (or null for torchvision's {eval_resize_for(d.image_size)})")
    return None


def _output_rule(cfg):
    return None if cfg.output.dir else "output.dir: must not be empty"


# Rules tying several keys together, each with the keys it reads: a rule is skipped when one of
# them already has a problem (its value fell back to the default, so the rule would misfire).
_CROSS_RULES = (
    (_freeze_rule, ("model.freeze",)),
    (_root_rule, ("data.dataset", "data.root")),
    (_digit_classes_rule, ("data.dataset", "data.classes")),
    (_unique_classes_rule, ("data.classes",)),
    (_stats_length_rule, ("data.mean", "data.std", "model.in_channels")),
    (_stats_pair_rule, ("data.mean", "data.std")),
    *optimizer_rules(),
    *scheduler_rules(),
    (_photo_augment_rule, ("data.dataset", "data.augment")),
    (_eval_resize_rule, ("data.dataset", "data.eval_resize", "data.image_size")),
    *recipe_rules(),
    (_output_rule, ("output.dir",)),
    (_memory_rule, ("model.width", "model.in_channels", "model.variant", "model.num_classes",
                    "data.image_size", "data.batch_size")),
)


def cross_check(cfg, problems):
    """Append the problems of the cross-key rules whose keys passed on their own."""
    bad = {p.split(":")[0].split("[")[0] for p in problems}
    for rule, keys in _CROSS_RULES:
        if any(k in bad or any(k.startswith(b + ".") for b in bad) for k in keys):
            continue
        problem = rule(cfg)
        if problem:
            problems.append(problem)
