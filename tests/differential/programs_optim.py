"""Seeded random optimizer/scheduler programs, run in torch and in minitorch, compared step by step.

A program builds a few float64 parameters of random shapes, an optimizer (SGD, Adam, AdamW,
RMSprop, Adagrad, Adadelta) with random hyperparameters and param groups, optionally a learning
rate scheduler, then runs steps of a random loss: ``zero_grad`` (to None or to zeros), backward,
``step``, the scheduler's step; now and then a ``state_dict()``/``load_state_dict()`` round trip
into a freshly built optimizer and scheduler, or ``add_param_group``. A parameter left out of a
step's loss has no gradient that step (so the optimizer must skip it).

It is source text with ``lib`` bound to either library (like ``harness.py``); every line runs on
its own and an error is data. ``rec()`` lines record the parameters, every group's lr and
hyperparameters, the optimizer's state dict and the scheduler's, and the traces of the two runs
must agree (float64, tight tolerance), as must which lines raised and the exception type.
"""
import copy
import random
import warnings

import numpy as np

from .harness import exec_lines

__all__ = ["generate_optim", "run_optim", "diff_optim"]

RTOL = 1e-9
ATOL = 1e-12
_SHAPES = [(3,), (2, 3), (4,), (1,), (2, 2, 2), ()]
# Flags torch keeps in its groups and scheduler dicts that change nothing minitorch computes.
_IGNORED = {"foreach", "fused", "differentiable", "capturable", "_get_lr_called_within_step"}


def _f(rng, lo, hi, digits=4):
    return round(rng.uniform(lo, hi), digits)


def _literal(rng, shape):
    n = int(np.prod(shape)) if shape else 1
    flat = [round(rng.gauss(0, 1), 3) for _ in range(n)]
    arr = np.array(flat).reshape(shape)
    return repr(arr.tolist())


# ---------------------------------------------------------------- hyperparameters
# Per optimizer: its lr range, then (keyword, probability, sampler) for the optional ones.
_OPTIMIZERS = {
    "SGD": ((0.005, 0.2), [("momentum", 0.7, lambda r: _f(r, 0.1, 0.95))]),
    "Adam": ((0.001, 0.1), [("betas", 0.5, lambda r: (_f(r, 0.5, 0.95), _f(r, 0.8, 0.9999))),
                            ("amsgrad", 0.4, lambda r: True),
                            ("eps", 0.3, lambda r: r.choice([1e-6, 1e-4, 1e-8]))]),
    "RMSprop": ((0.001, 0.05), [("alpha", 0.5, lambda r: _f(r, 0.5, 0.99)),
                                ("centered", 0.5, lambda r: True),
                                ("momentum", 0.5, lambda r: _f(r, 0.1, 0.9))]),
    "Adagrad": ((0.01, 0.3), [("lr_decay", 0.4, lambda r: _f(r, 0.0, 0.1)),
                              ("initial_accumulator_value", 0.4, lambda r: _f(r, 0.0, 0.5))]),
    "Adadelta": ((0.1, 2.0), [("rho", 0.5, lambda r: _f(r, 0.3, 0.95))]),
}
# The hyperparameters a param group may override.
_GROUP_KEYS = {"SGD": ["lr", "momentum", "weight_decay"],
               "Adam": ["lr", "weight_decay", "amsgrad", "betas"],
               "RMSprop": ["lr", "weight_decay", "momentum", "centered"],
               "Adagrad": ["lr", "weight_decay", "eps"], "Adadelta": ["lr", "weight_decay", "rho"]}


def _optimizer(rng):
    """(class name, keyword arguments, per-group keys that may be overridden)."""
    name = rng.choice(["SGD", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
    family = "Adam" if name == "AdamW" else name
    lr_range, options = _OPTIMIZERS[family]
    kw = {"lr": _f(rng, *lr_range)}
    for key, chance, sample in options:
        if rng.random() < chance:
            kw[key] = sample(rng)
    if "momentum" in kw and name == "SGD":
        if rng.random() < 0.4:
            kw["nesterov"] = True
        elif rng.random() < 0.5:
            kw["dampening"] = _f(rng, 0.0, 0.5)
    if rng.random() < 0.4:
        kw["weight_decay"] = _f(rng, 0.0, 0.1)
    if rng.random() < 0.15:
        kw["maximize"] = True
    if rng.random() < 0.04:
        _out_of_range(rng, family, kw)
    return name, kw, _GROUP_KEYS[family]


def _out_of_range(rng, name, kw):
    """One hyperparameter out of range: both libraries must refuse it (ValueError)."""
    bad = {"SGD": [("lr", -0.1), ("momentum", -0.5), ("weight_decay", -1.0)],
           "Adam": [("lr", -0.01), ("eps", -1e-8), ("betas", (1.0, 0.9)), ("betas", (0.9, -0.1)),
                    ("weight_decay", -0.1)],
           "RMSprop": [("lr", -0.01), ("alpha", -0.5), ("eps", -1.0), ("momentum", -0.1),
                       ("weight_decay", -1.0)],
           "Adagrad": [("lr", -0.1), ("lr_decay", -0.5), ("eps", -1e-3),
                       ("initial_accumulator_value", -0.2), ("weight_decay", -1.0)],
           "Adadelta": [("lr", -1.0), ("rho", 1.5), ("rho", -0.1), ("eps", -1e-6),
                        ("weight_decay", -0.1)]}
    key, value = rng.choice(bad[name])
    kw[key] = value


def _scheduler(rng, steps):
    """(class name, keyword arguments as source, whether step() takes the loss), or None."""
    if rng.random() < 0.25:
        return None
    name = rng.choice(["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                       "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "LinearLR",
                       "ReduceLROnPlateau", "LambdaLR"])
    r = rng.randint
    if name == "StepLR":
        kw = {"step_size": r(1, 4), "gamma": _f(rng, 0.1, 0.9)}
    elif name == "MultiStepLR":
        kw = {"milestones": sorted(r(1, steps) for _ in range(r(1, 3))), "gamma": _f(rng, 0.1, 0.9)}
    elif name == "ExponentialLR":
        kw = {"gamma": _f(rng, 0.5, 0.99)}
    elif name == "CosineAnnealingLR":
        kw = {"T_max": r(1, steps + 2), "eta_min": rng.choice([0.0, 0.001])}
    elif name == "CosineAnnealingWarmRestarts":
        kw = {"T_0": r(1, 4), "T_mult": r(1, 3), "eta_min": rng.choice([0.0, 0.0005])}
    elif name == "OneCycleLR":
        # sometimes too few total steps: both must refuse the step past the end
        kw = {"max_lr": _f(rng, 0.01, 0.3), "total_steps": steps + r(-1, 3),
              "pct_start": _f(rng, 0.1, 0.6), "anneal_strategy": rng.choice(["cos", "linear"]),
              "three_phase": rng.random() < 0.3}
        if rng.random() < 0.3:
            kw["cycle_momentum"] = False
    elif name == "PolynomialLR":
        kw = {"total_iters": r(1, steps + 1), "power": _f(rng, 0.5, 3.0)}
    elif name == "LinearLR":
        kw = {"start_factor": _f(rng, 0.1, 1.0), "end_factor": _f(rng, 0.2, 1.0),
              "total_iters": r(1, steps)}
    elif name == "ReduceLROnPlateau":
        kw = {"mode": rng.choice(["min", "max"]), "factor": _f(rng, 0.1, 0.9),
              "patience": r(0, 2), "threshold": rng.choice([1e-4, 0.01, 0.1]),
              "threshold_mode": rng.choice(["rel", "abs"]), "cooldown": r(0, 2),
              "min_lr": rng.choice([0, 1e-4])}
    else:
        kw = {"lr_lambda": f"lambda e: {_f(rng, 0.8, 0.99)} ** e"}
    return name, kw, name == "ReduceLROnPlateau"


def _source(kw):
    return ", ".join(f"{k}={v}" if k == "lr_lambda" else f"{k}={v!r}" for k, v in kw.items())


# ---------------------------------------------------------------- programs
_LOSSES = ["((p{i} - t{i}) ** 2).sum()", "(p{i} * t{i}).sum()", "(p{i}.tanh() * t{i}).sum()",
           "(p{i} * t{i}).sum() ** 2", "(p{i}.exp() * 0.1).sum()", "(p{i}.abs() * t{i}).sum()"]


def generate_optim(seed, steps=None):
    """The lines of one random optimizer program (deterministic for a seed)."""
    rng = random.Random(seed)
    steps = steps or rng.randint(3, 8)
    n = rng.randint(1, 4)
    lines = ["import copy"]
    for i in range(n):
        shape = rng.choice(_SHAPES)
        lines.append(f"p{i} = lib.tensor({_literal(rng, shape)}, dtype=lib.float64, "
                     "requires_grad=True)")
        lines.append(f"t{i} = lib.tensor({_literal(rng, shape)}, dtype=lib.float64)")
    extra = n  # a parameter added later by add_param_group
    shape = rng.choice(_SHAPES)
    lines.append(f"p{extra} = lib.tensor({_literal(rng, shape)}, dtype=lib.float64, "
                 "requires_grad=True)")
    lines.append(f"t{extra} = lib.tensor({_literal(rng, shape)}, dtype=lib.float64)")
    lines.append("params = [" + ", ".join(f"p{i}" for i in range(n)) + "]")
    name, kw, keys = _optimizer(rng)
    groups = _groups(rng, n, keys)
    sched = _scheduler(rng, steps)
    losses = [rng.choice(_LOSSES) for _ in range(n + 1)]

    def build():
        out = [f"opt = lib.optim.{name}({_groups_source(groups)}, {_source(kw)})"]
        if sched:
            out.append(f"sched = lib.optim.lr_scheduler.{sched[0]}(opt, {_source(sched[1])})")
        return out

    lines += build()
    lines.append("rec()")
    active = list(range(n))
    for _ in range(steps):
        lines.append(rng.choice(["opt.zero_grad()", "opt.zero_grad()",
                                 "opt.zero_grad(set_to_none=False)"]))
        used = [i for i in active if rng.random() < 0.85] or active[:1]
        lines.append("loss = " + " + ".join(losses[i].format(i=i) for i in used))
        lines.append("loss.backward()")
        lines.append("opt.step()")
        if sched:
            lines.append("sched.step(loss.item())" if sched[2] else "sched.step()")
        lines.append("rec()")
        r = rng.random()
        if r < 0.2:
            # resume as a training script does: fresh objects, then the saved dicts
            lines.append("sd = copy.deepcopy(opt.state_dict())")
            if sched:
                lines.append("ssd = copy.deepcopy(sched.state_dict())")
            lines += build()
            lines.append("opt.load_state_dict(sd)")
            if sched:
                lines.append("sched.load_state_dict(ssd)")
            lines.append("rec()")
        elif r < 0.3 and extra not in active and not sched:
            group = {"params": [extra]}
            if rng.random() < 0.6:
                group["lr"] = _f(rng, 0.001, 0.1)
            groups.append(group)
            active.append(extra)
            lines.append(f"opt.add_param_group({_group_source(group)})")
            lines.append(f"params.append(p{extra})")
            lines.append("rec()")
        elif r < 0.35:
            lines.append("opt.load_state_dict(opt.state_dict())")
            lines.append("rec()")
    return lines


def _groups(rng, n, keys):
    """Param groups: one plain list, or 2+ groups with some hyperparameters overridden."""
    if n == 1 or rng.random() < 0.5:
        return [{"params": list(range(n))}]
    cut = rng.randint(1, n - 1)
    groups = [{"params": list(range(cut))}, {"params": list(range(cut, n))}]
    for g in groups:
        if rng.random() < 0.6:
            key = rng.choice(keys)
            g[key] = {"lr": _f(rng, 0.001, 0.1), "weight_decay": _f(rng, 0.0, 0.05),
                      "momentum": _f(rng, 0.0, 0.9), "amsgrad": rng.random() < 0.5,
                      "betas": (0.8, 0.99), "centered": rng.random() < 0.5,
                      "eps": 1e-5, "rho": _f(rng, 0.5, 0.9)}[key]
    return groups


def _groups_source(groups):
    if len(groups) == 1 and len(groups[0]) == 1:
        return "[" + ", ".join(f"p{i}" for i in groups[0]["params"]) + "]"
    return "[" + ", ".join(_group_source(g) for g in groups) + "]"


def _group_source(group):
    items = ["'params': [" + ", ".join(f"p{i}" for i in group["params"]) + "]"]
    items += [f"{k!r}: {v!r}" for k, v in group.items() if k != "params"]
    return "{" + ", ".join(items) + "}"


# ---------------------------------------------------------------- running and comparing
def _plain(lib, value):
    """A state value as numpy / Python data, the same shape for both libraries."""
    if isinstance(value, lib.Tensor):
        return np.array(value.detach().numpy(), dtype=np.float64, copy=True)
    if isinstance(value, dict):
        return {k: _plain(lib, v) for k, v in value.items() if k not in _IGNORED}
    if isinstance(value, (list, tuple)):
        return [_plain(lib, v) for v in value]
    if callable(value):
        return "<callable>"
    return copy.deepcopy(value)


def _record(lib, ns, trace):
    opt = ns.get("opt")
    snap = {"params": [_plain(lib, p) for p in ns.get("params", [])]}
    if opt is not None:
        snap["lrs"] = [float(g["lr"]) for g in opt.param_groups]
        snap["optimizer"] = _plain(lib, opt.state_dict())
    sched = ns.get("sched")
    if sched is not None:
        snap["scheduler"] = _plain(lib, sched.state_dict())
        snap["last_lr"] = [float(x) for x in sched.get_last_lr()] \
            if hasattr(sched, "get_last_lr") else None
    trace.append(snap)


def run_optim(lib, lines):
    """Run ``lines`` with ``lib`` bound: ({line: exception type}, [snapshot per rec()])."""
    trace = []
    ns = {"lib": lib}
    ns["rec"] = lambda: _record(lib, ns, trace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errors = exec_lines(ns, lines)
    return {i: type(e).__name__ for i, e in errors.items()}, trace


def _diff(path, ref, mine, out):
    if isinstance(ref, dict) and isinstance(mine, dict):
        for k in sorted(set(ref) | set(mine), key=str):
            if k not in mine or k not in ref:
                # a private bookkeeping key of one library only is no divergence
                if not str(k).startswith("_"):
                    out.append(f"{path}.{k}: only in {'torch' if k in ref else 'minitorch'}")
                continue
            _diff(f"{path}.{k}", ref[k], mine[k], out)
    elif isinstance(ref, list) and isinstance(mine, list):
        if len(ref) != len(mine):
            out.append(f"{path}: {len(ref)} items in torch, {len(mine)} in minitorch")
        for i, (r, m) in enumerate(zip(ref, mine)):
            _diff(f"{path}[{i}]", r, m, out)
    elif isinstance(ref, np.ndarray) or isinstance(mine, np.ndarray):
        r, m = np.asarray(ref, np.float64), np.asarray(mine, np.float64)
        if r.shape != m.shape or not np.allclose(m, r, rtol=RTOL, atol=ATOL, equal_nan=True):
            out.append(f"{path}: torch {r.tolist()}, minitorch {m.tolist()}")
    elif isinstance(ref, float) or isinstance(mine, float):
        if not (isinstance(ref, (int, float)) and isinstance(mine, (int, float))
                and np.isclose(mine, ref, rtol=RTOL, atol=ATOL, equal_nan=True)):
            out.append(f"{path}: torch {ref!r}, minitorch {mine!r}")
    elif ref != mine:
        out.append(f"{path}: torch {ref!r}, minitorch {mine!r}")


def diff_optim(lines):
    """Run ``lines`` in both libraries; the list of differences (empty when they agree)."""
    import torch

    import minitorch

    ref_errors, ref_trace = run_optim(torch, lines)
    errors, trace = run_optim(minitorch, lines)
    out = [f"line {i}: torch -> {ref_errors.get(i, 'ok')}; minitorch -> {errors.get(i, 'ok')}"
           for i in sorted(set(ref_errors) | set(errors)) if ref_errors.get(i) != errors.get(i)]
    if len(ref_trace) != len(trace):
        out.append(f"{len(ref_trace)} records in torch, {len(trace)} in minitorch")
    for k, (r, m) in enumerate(zip(ref_trace, trace)):
        found = []
        _diff(f"rec {k}", r, m, found)
        if found:
            out += found[:6]
            break  # the first record that differs says it; later ones follow from it
    return out
