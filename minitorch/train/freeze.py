"""Freezing: ``model.freeze`` (none | backbone | [prefixes]) turned into requires_grad flags.

A frozen parameter gets ``requires_grad=False``, so autograd computes nothing for it (and nothing
before it when the whole prefix of the network is frozen). Its BatchNorm layers are frozen too:
in training mode a BatchNorm would still update its running mean and variance from each batch,
so the trainer keeps every frozen BatchNorm in eval mode (``set_train_mode``), and a frozen part's
weights *and* running statistics stay bitwise unchanged.

A BatchNorm layer is frozen when it lies under a frozen prefix (for ``backbone``: everything but
``fc``).
"""
from dataclasses import dataclass, field

from minitorch import nn
from minitorch.train.config_schema import suggest

from .errors import TrainerError

__all__ = ["FreezePlan", "resolve_freeze", "apply_freeze", "set_train_mode",
           "check_optimizer_coverage", "parameter_counts", "HEAD_PREFIX"]

HEAD_PREFIX = "fc"


@dataclass
class FreezePlan:
    """What ``model.freeze`` means for one model."""
    spec: object                                   # the config value, for messages
    prefixes: list                                 # the frozen prefixes
    frozen_params: list = field(default_factory=list)   # names, registration order
    frozen_bn: list = field(default_factory=list)       # names of frozen BatchNorm modules


def _under(name, prefixes):
    """``name`` is a prefix itself or lies under one ('layer1' covers 'layer1.0.conv1.weight'
    but not 'layer10.weight')."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _prefixes(model, spec):
    """The frozen prefixes for a freeze spec; each given prefix must name something."""
    if spec in (None, "none"):
        return []
    modules = [name for name, _ in model.named_children()]
    if spec == "backbone":
        return [name for name in modules if name != HEAD_PREFIX]
    if isinstance(spec, str):
        raise TrainerError(f"model.freeze: must be 'none', 'backbone' or a list of prefixes, "
                           f"got {spec!r}")
    names = [n for n, _ in model.named_parameters()] + \
        [n for n, _ in model.named_modules() if n]
    for prefix in spec:
        if not any(_under(n, [prefix]) for n in names):
            close = suggest(prefix, [n for n, _ in model.named_modules() if n])
            hint = f" (did you mean {close!r}?)" if close else \
                f" (top-level modules: {', '.join(modules)})"
            raise TrainerError(f"model.freeze: prefix {prefix!r} matches no parameter or "
                               f"module of the model{hint}")
    return list(spec)


def resolve_freeze(model, spec):
    """The FreezePlan of ``spec`` for ``model`` (nothing changed yet; see ``apply_freeze``)."""
    prefixes = _prefixes(model, spec)
    frozen = [n for n, _ in model.named_parameters() if _under(n, prefixes)]
    frozen_bn = [n for n, m in model.named_modules()
                 if isinstance(m, nn.BatchNorm2d) and n and _under(n, prefixes)]
    return FreezePlan(spec=spec, prefixes=prefixes, frozen_params=frozen, frozen_bn=frozen_bn)


def apply_freeze(model, plan):
    """Set ``requires_grad`` from the plan: frozen parameters False, every other one True."""
    frozen = set(plan.frozen_params)
    for name, p in model.named_parameters():
        p.requires_grad_(name not in frozen)
    if not any(p.requires_grad for p in model.parameters()):
        raise TrainerError(f"model.freeze: {plan.spec!r} freezes every parameter of the model: "
                           f"nothing would train")
    return model


def set_train_mode(model, plan, training=True):
    """``model.train(training)``, except that frozen BatchNorm layers always stay in eval mode
    (their running statistics must not move)."""
    model.train(training)
    if training:
        modules = dict(model.named_modules())
        for name in plan.frozen_bn:
            modules[name].eval()
    return model


def check_optimizer_coverage(optimizer, model, pending=()):
    """Refuse an optimizer that holds a frozen parameter or misses a trainable one.

    ``pending``: names of frozen parameters it may hold because an unfreeze step will unfreeze
    them (until then they get no gradient, and optimizers skip them). Returns the number of
    parameter tensors it holds.
    """
    names = {id(p): n for n, p in model.named_parameters()}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    held_ids = {id(p) for p in held}
    pending = set(pending)
    frozen = [names.get(id(p), "<not in the model>") for p in held
              if not p.requires_grad and names.get(id(p)) not in pending]
    if frozen:
        raise TrainerError(f"the optimizer holds {len(frozen)} frozen parameter(s) "
                           f"({', '.join(frozen[:3])}{', ...' if len(frozen) > 3 else ''})")
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in held_ids]
    if missing:
        raise TrainerError(f"the optimizer misses {len(missing)} trainable parameter(s) "
                           f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})")
    return len(held)


def parameter_counts(model):
    """(trainable elements, trainable tensors, frozen elements, frozen tensors)."""
    counts = [0, 0, 0, 0]
    for p in model.parameters():
        base = 0 if p.requires_grad else 2
        counts[base] += int(p._data.size)
        counts[base + 1] += 1
    return tuple(counts)
