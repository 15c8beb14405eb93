"""The optimizer and scheduler cases shared by the parity tests and ``scripts/fixtures_optim.py``.

Every runner here takes the library as an argument (``torch`` or ``minitorch``): the two expose
the same names (``lib.tensor``, ``lib.optim.SGD``, ``lib.optim.lr_scheduler.StepLR``, ...), so
one function drives both sides of a parity check.
"""
import numpy as np

SHAPES = [(3, 4), (5,), (2, 3)]
STEPS = 60
EPOCHS = 30
SCHED_BASE_LRS = [0.1, 0.02]

SGD_CASES = {
    "plain": {"defaults": {"lr": 0.1}},
    "momentum": {"defaults": {"lr": 0.05, "momentum": 0.9}},
    "nesterov_weight_decay": {"defaults": {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                                           "weight_decay": 0.01}},
    "dampening_weight_decay": {"defaults": {"lr": 0.05, "momentum": 0.8, "dampening": 0.3,
                                            "weight_decay": 0.02}},
    "two_groups": {"defaults": {"lr": 0.03, "weight_decay": 0.001},
                   "groups": [{"params": [0, 1], "lr": 0.1, "momentum": 0.9},
                              {"params": [2], "lr": 0.01, "momentum": 0.5}]},
    "maximize_momentum": {"defaults": {"lr": 0.02, "momentum": 0.7, "maximize": True}},
}

SCHED_CASES = {
    "step": {"type": "StepLR", "kwargs": {"step_size": 7, "gamma": 0.5}},
    "multistep": {"type": "MultiStepLR", "kwargs": {"milestones": [3, 10, 10, 22],
                                                    "gamma": 0.3}},
    "cosine": {"type": "CosineAnnealingLR", "kwargs": {"T_max": 10, "eta_min": 0.001}},
    "cosine_long": {"type": "CosineAnnealingLR", "kwargs": {"T_max": 30}},
    "linear_warmup": {"type": "LinearLR", "kwargs": {"start_factor": 0.1, "end_factor": 1.0,
                                                     "total_iters": 8}},
    "linear_decay": {"type": "LinearLR", "kwargs": {"start_factor": 1.0, "end_factor": 0.25,
                                                    "total_iters": 20}},
    "lambda": {"type": "LambdaLR", "lambda": "exp_095"},
    "warmup_cosine": {"type": "SequentialLR", "milestones": [5], "schedulers": [
        {"type": "LinearLR", "kwargs": {"start_factor": 0.01, "total_iters": 5}},
        {"type": "CosineAnnealingLR", "kwargs": {"T_max": 25, "eta_min": 1e-4}}]},
    "three_phases": {"type": "SequentialLR", "milestones": [4, 15], "schedulers": [
        {"type": "LinearLR", "kwargs": {"start_factor": 0.2, "total_iters": 4}},
        {"type": "StepLR", "kwargs": {"step_size": 5, "gamma": 0.5}},
        {"type": "CosineAnnealingLR", "kwargs": {"T_max": 10}}]},
}

LAMBDAS = {"exp_095": lambda epoch: 0.95 ** epoch}


def has_grad(step: int, index: int) -> bool:
    """Parameter 1 gets no gradient in the first 5 steps and every 7th step after: SGD must skip
    it then (no decay, no momentum), and start its momentum buffer late."""
    return not (index == 1 and (step < 5 or step % 7 == 3))


def make_inputs(seed: int):
    """Initial parameters and per-step gradients, float64 (``grads[i]`` is (STEPS, *shape))."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(shape) for shape in SHAPES]
    grads = [rng.standard_normal((STEPS,) + shape) for shape in SHAPES]
    return init, grads


def build_sgd(lib, params: list, case: dict):
    """The SGD of ``case`` over ``params``, built with ``lib.optim``."""
    groups = case.get("groups")
    if groups is None:
        return lib.optim.SGD(params, **case["defaults"])
    dict_groups = [dict(g, params=[params[i] for i in g["params"]]) for g in groups]
    return lib.optim.SGD(dict_groups, **case["defaults"])


def run_sgd(lib, case: dict, init: list, grads: list, steps: int = STEPS, optimizer=None,
            params=None, start: int = 0):
    """Step an SGD over the given gradients; returns (params, optimizer, trajectories) where
    ``trajectories[i]`` is (steps, *shape): parameter i after each step."""
    if params is None:
        params = [lib.tensor(np.array(a), requires_grad=True) for a in init]
    if optimizer is None:
        optimizer = build_sgd(lib, params, case)
    traj = [np.empty((steps,) + p.shape) for p in params]
    for step in range(start, start + steps):
        optimizer.zero_grad()
        for i, p in enumerate(params):
            if has_grad(step, i):
                p.grad = lib.tensor(np.array(grads[i][step]))
        optimizer.step()
        for i, p in enumerate(params):
            traj[i][step - start] = np.array(p.detach().numpy())
    return params, optimizer, traj


def build_scheduler(lib, optimizer, spec: dict):
    """The scheduler described by ``spec`` (see SCHED_CASES), built with ``lib.optim``."""
    module = lib.optim.lr_scheduler
    kind = spec["type"]
    if kind == "SequentialLR":
        children = [build_scheduler(lib, optimizer, s) for s in spec["schedulers"]]
        return module.SequentialLR(optimizer, children, milestones=spec["milestones"])
    if kind == "LambdaLR":
        return module.LambdaLR(optimizer, LAMBDAS[spec["lambda"]])
    return getattr(module, kind)(optimizer, **spec["kwargs"])


def run_scheduler(lib, spec: dict, epochs: int = EPOCHS):
    """The lrs of two param groups after construction and after each of ``epochs`` steps:
    an array (epochs + 1, 2). Also checks ``get_last_lr`` agrees with the groups."""
    params = [lib.tensor(np.zeros(2), requires_grad=True) for _ in SCHED_BASE_LRS]
    optimizer = lib.optim.SGD([{"params": [p], "lr": lr} for p, lr in
                               zip(params, SCHED_BASE_LRS)], lr=1.0, momentum=0.9)
    scheduler = build_scheduler(lib, optimizer, spec)
    lrs = np.empty((epochs + 1, len(SCHED_BASE_LRS)))
    for epoch in range(epochs + 1):
        if epoch > 0:
            optimizer.step()
            scheduler.step()
        lrs[epoch] = [g["lr"] for g in optimizer.param_groups]
        assert list(scheduler.get_last_lr()) == list(lrs[epoch]), epoch
    return lrs
