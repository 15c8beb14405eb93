"""The optimizer's param groups from the config: ``train.layer_lr``, ``train.layer_decay``,
``train.no_decay_norm_bias`` and the lr multipliers of ``train.unfreeze``.

Each parameter that trains at some point of the run gets an lr and a weight-decay flag:

- lr: ``train.optimizer.lr``, times ``layer_decay ** depth`` with ``layer_decay`` (timm's
  layer-wise decay: depth 0 for ``fc``, 1 for the last stage ``layer4``, ... and one more for the
  stem ``conv1``/``bn1``); a ``layer_lr`` prefix replaces it (the longest matching prefix wins:
  a number is the lr, ``'x0.1'`` is 0.1 x ``train.optimizer.lr``); a parameter that an unfreeze
  step unfreezes has it multiplied by that step's ``lr_mult``.
- weight decay: the optimizer's, or 0 for norms and biases (every 1-d parameter) with
  ``no_decay_norm_bias``.

Parameters with the same (lr, decay, unfreeze step) share a group; the groups training from the
start come first, then each unfreeze step's, each in the order of their first parameter in
``model.named_parameters()``, so a resumed run builds the same groups in
the same order as the run it continues (the checkpoint matches groups by position).
"""
from ..config_recipes import parse_lr_value
from ..config_schema import suggest
from ..errors import TrainerError
from ..freeze import HEAD_PREFIX, _under

__all__ = ["build_param_groups", "layer_depths", "describe_groups"]


def layer_depths(model):
    """{top-level module name: depth from the head}: fc 0, the stages ``layer4`` .. ``layer1``
    1 .. 4, every other module (the stem) one more than the first stage."""
    names = [n for n, _ in model.named_children()]
    stages = [n for n in names if n.startswith("layer")]
    depths = {}
    for name in names:
        if name == HEAD_PREFIX:
            depths[name] = 0
        elif name in stages:
            depths[name] = len(stages) - stages.index(name)
        else:
            depths[name] = len(stages) + 1
    return depths


def _longest_prefix(name, prefixes):
    matches = [p for p in prefixes if _under(name, [p])]
    return max(matches, key=len) if matches else None


def check_layer_lr(model, layer_lr, trained):
    """Every ``layer_lr`` prefix must name a parameter that trains at some point of the run."""
    names = [n for n, _ in model.named_parameters()]
    modules = [n for n, _ in model.named_modules() if n]
    for prefix in layer_lr:
        if not any(_under(n, [prefix]) for n in names):
            close = suggest(prefix, modules + names)
            hint = f" (did you mean {close!r}?)" if close else \
                f" (top-level modules: {', '.join(n for n, _ in model.named_children())})"
            raise TrainerError(f"train.layer_lr: prefix {prefix!r} matches no parameter of the "
                               f"model{hint}")
        if not any(_under(n, [prefix]) for n in trained):
            raise TrainerError(f"train.layer_lr: prefix {prefix!r} matches only frozen "
                               f"parameters (model.freeze), which never train")


def build_param_groups(model, config, trained, step_of):
    """The param-group dicts for the parameters named in ``trained`` (in model order);
    ``step_of`` maps a name to the index of the unfreeze step that unfreezes it (absent: it
    trains from the start). Each group also records its ``unfreeze_step`` (-1: from the start)."""
    t = config.train
    base = t.optimizer.lr
    check_layer_lr(model, t.layer_lr, trained)
    depths = layer_depths(model)
    groups, index = [], {}
    for name, p in model.named_parameters():
        if name not in trained:
            continue
        lr = base
        if t.layer_decay is not None:
            lr = base * t.layer_decay ** depths[name.split(".")[0]]
        prefix = _longest_prefix(name, t.layer_lr)
        if prefix is not None:
            lr = parse_lr_value(t.layer_lr[prefix], base)
        step = step_of.get(name, -1)
        if step >= 0:
            lr = lr * t.unfreeze[step].lr_mult
        no_decay = t.no_decay_norm_bias and p.ndim <= 1
        key = (lr, no_decay, step)
        if key not in index:
            index[key] = len(groups)
            group = {"params": [], "lr": lr, "unfreeze_step": step}
            if no_decay:
                group["weight_decay"] = 0.0
            groups.append(group)
        groups[index[key]]["params"].append(p)
    # the groups training from the start first (group 0's lr is the one metrics.jsonl shows),
    # then each unfreeze step's (a stable sort: model order within each)
    return sorted(groups, key=lambda g: g["unfreeze_step"])


def describe_groups(optimizer, model):
    """One short line per param group: its lr, decay and first parameter names."""
    names = {id(p): n for n, p in model.named_parameters()}
    lines = []
    for i, g in enumerate(optimizer.param_groups):
        held = [names.get(id(p), "?") for p in g["params"]]
        shown = ", ".join(held[:2]) + (f", ... ({len(held)} tensors)" if len(held) > 2 else "")
        when = "" if g.get("unfreeze_step", -1) < 0 else \
            f", unfreeze step {g['unfreeze_step']}"
        lines.append(f"  group {i}: lr {g.get('initial_lr', g['lr']):.3g}, weight_decay "
                     f"{g.get('weight_decay', 0)}{when}: {shown}")
    return lines
