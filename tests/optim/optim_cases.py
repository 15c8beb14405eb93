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

# The adaptive optimizers: every mode of each (lr chosen so 60 steps really move the values).
OPTIM_CASES = {
    "adam": {"type": "Adam", "defaults": {"lr": 0.01}},
    "adam_amsgrad_l2": {"type": "Adam", "defaults": {"lr": 0.02, "amsgrad": True,
                                                     "weight_decay": 0.05}},
    "adam_maximize_betas": {"type": "Adam", "defaults": {"lr": 0.01, "betas": (0.7, 0.9),
                                                         "eps": 1e-6, "maximize": True}},
    "adam_small_beta1": {"type": "Adam", "defaults": {"lr": 0.01, "betas": (0.3, 0.5)}},
    "adamw": {"type": "AdamW", "defaults": {"lr": 0.01}},
    "adamw_amsgrad_groups": {"type": "AdamW", "defaults": {"lr": 0.01, "amsgrad": True},
                             "groups": [{"params": [0, 1], "weight_decay": 0.1},
                                        {"params": [2], "lr": 0.003, "weight_decay": 0.0}]},
    "adamw_maximize": {"type": "AdamW", "defaults": {"lr": 0.005, "weight_decay": 0.2,
                                                     "maximize": True}},
    "rmsprop": {"type": "RMSprop", "defaults": {"lr": 0.01}},
    "rmsprop_momentum_l2": {"type": "RMSprop", "defaults": {"lr": 0.005, "momentum": 0.9,
                                                            "weight_decay": 0.01}},
    "rmsprop_centered": {"type": "RMSprop", "defaults": {"lr": 0.005, "centered": True,
                                                         "alpha": 0.9}},
    "rmsprop_centered_momentum_max": {"type": "RMSprop", "defaults": {
        "lr": 0.002, "centered": True, "momentum": 0.5, "alpha": 0.3, "maximize": True}},
    "adagrad": {"type": "Adagrad", "defaults": {"lr": 0.1}},
    "adagrad_decay_init": {"type": "Adagrad", "defaults": {
        "lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3, "weight_decay": 0.01}},
    "adagrad_maximize_groups": {"type": "Adagrad", "defaults": {"lr": 0.05, "maximize": True},
                                "groups": [{"params": [0], "eps": 1e-3}, {"params": [1, 2]}]},
    "adadelta": {"type": "Adadelta", "defaults": {}},
    "adadelta_rho_l2": {"type": "Adadelta", "defaults": {"lr": 0.5, "rho": 0.5,
                                                         "weight_decay": 0.1}},
    "adadelta_maximize": {"type": "Adadelta", "defaults": {"lr": 2.0, "eps": 1e-4,
                                                           "maximize": True}},
}

# Adamax, NAdam, RAdam, Rprop and ASGD, compared with live torch only (no fixture).
OPTIM_CASES_MORE = {
    "adamax": {"type": "Adamax", "defaults": {"lr": 0.02}},
    "adamax_l2_maximize": {"type": "Adamax", "defaults": {"lr": 0.01, "weight_decay": 0.05,
                                                          "maximize": True, "eps": 1e-3}},
    "adamax_groups_betas": {"type": "Adamax", "defaults": {"lr": 0.01, "betas": (0.3, 0.5)},
                            "groups": [{"params": [0, 1]}, {"params": [2], "lr": 0.05}]},
    "nadam": {"type": "NAdam", "defaults": {"lr": 0.01}},
    "nadam_decoupled": {"type": "NAdam", "defaults": {"lr": 0.01, "weight_decay": 0.1,
                                                      "decoupled_weight_decay": True}},
    "nadam_l2_maximize_decay": {"type": "NAdam", "defaults": {
        "lr": 0.005, "weight_decay": 0.02, "maximize": True, "momentum_decay": 0.05,
        "betas": (0.6, 0.9)}},
    "radam": {"type": "RAdam", "defaults": {"lr": 0.01}},
    "radam_decoupled_groups": {"type": "RAdam", "defaults": {"lr": 0.01, "weight_decay": 0.1,
                                                             "decoupled_weight_decay": True},
                               "groups": [{"params": [0]}, {"params": [1, 2], "lr": 0.03}]},
    "radam_l2_maximize_short": {"type": "RAdam", "defaults": {
        "lr": 0.02, "weight_decay": 0.05, "maximize": True, "betas": (0.5, 0.8)}},
    "rprop": {"type": "Rprop", "defaults": {"lr": 0.01}},
    "rprop_bounds_maximize": {"type": "Rprop", "defaults": {
        "lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.08), "maximize": True}},
    "asgd": {"type": "ASGD", "defaults": {"lr": 0.05}},
    "asgd_averaging_l2": {"type": "ASGD", "defaults": {"lr": 0.05, "t0": 10, "lambd": 0.01,
                                                       "alpha": 0.5, "weight_decay": 0.01}},
    "asgd_maximize_groups": {"type": "ASGD", "defaults": {"lr": 0.02, "t0": 3,
                                                          "maximize": True},
                             "groups": [{"params": [0, 2]}, {"params": [1], "lr": 0.1}]},
}

# State each optimizer keeps per parameter (torch's names), for the fixtures and checks.
STATE_KEYS = {"SGD": ("momentum_buffer",),
              "Adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
              "AdamW": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
              "RMSprop": ("square_avg", "grad_avg", "momentum_buffer"),
              "Adagrad": ("sum",), "Adadelta": ("square_avg", "acc_delta"),
              "Adamax": ("exp_avg", "exp_inf"), "NAdam": ("mu_product", "exp_avg", "exp_avg_sq"),
              "RAdam": ("exp_avg", "exp_avg_sq"), "Rprop": ("prev", "step_size"),
              "ASGD": ("eta", "mu", "ax")}

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

# The schedules added with the adaptive optimizers (fixture: optim_adaptive.h5).
SCHED_CASES_MORE = {
    "exponential": {"type": "ExponentialLR", "kwargs": {"gamma": 0.9}},
    "polynomial": {"type": "PolynomialLR", "kwargs": {"total_iters": 20, "power": 2.0}},
    "polynomial_linear": {"type": "PolynomialLR", "kwargs": {"total_iters": 7}},
    "warm_restarts": {"type": "CosineAnnealingWarmRestarts", "kwargs": {"T_0": 7,
                                                                        "eta_min": 0.001}},
    "warm_restarts_mult": {"type": "CosineAnnealingWarmRestarts", "kwargs": {"T_0": 3,
                                                                             "T_mult": 2}},
    "warm_restarts_fractional": {"type": "CosineAnnealingWarmRestarts",
                                 "kwargs": {"T_0": 2, "T_mult": 2, "eta_min": 1e-4},
                                 "epoch_per_step": 0.25},
    "onecycle_cos": {"type": "OneCycleLR", "kwargs": {"max_lr": 0.5, "total_steps": 30}},
    "onecycle_linear_groups": {"type": "OneCycleLR", "kwargs": {
        "max_lr": [0.4, 0.1], "epochs": 3, "steps_per_epoch": 10, "pct_start": 0.25,
        "anneal_strategy": "linear", "div_factor": 10.0, "final_div_factor": 100.0}},
    "onecycle_three_phase": {"type": "OneCycleLR", "kwargs": {
        "max_lr": 0.3, "total_steps": 32, "three_phase": True, "base_momentum": 0.8,
        "max_momentum": [0.9, 0.95]}},
    "onecycle_adam_betas": {"type": "OneCycleLR", "optimizer": "Adam",
                            "kwargs": {"max_lr": 0.01, "total_steps": 30, "pct_start": 0.4}},
    "onecycle_no_momentum": {"type": "OneCycleLR", "kwargs": {"max_lr": 0.2, "total_steps": 31,
                                                             "cycle_momentum": False}},
    "plateau_min_rel": {"type": "ReduceLROnPlateau", "metrics": "loss",
                        "kwargs": {"patience": 2, "factor": 0.5}},
    "plateau_min_abs_cooldown": {"type": "ReduceLROnPlateau", "metrics": "loss",
                                 "kwargs": {"patience": 1, "threshold": 0.01,
                                            "threshold_mode": "abs", "cooldown": 2,
                                            "min_lr": [0.01, 0.005]}},
    "plateau_max": {"type": "ReduceLROnPlateau", "metrics": "accuracy",
                    "kwargs": {"mode": "max", "patience": 0, "factor": 0.3, "min_lr": 0.004,
                               "threshold": 0.05}},
    "plateau_max_abs": {"type": "ReduceLROnPlateau", "metrics": "accuracy",
                        "kwargs": {"mode": "max", "threshold_mode": "abs", "threshold": 0.02,
                                   "patience": 1, "eps": 0.01}},
}

# The schedules added with Adamax ... ASGD, compared with live torch only (no fixture).
SCHED_CASES_LIVE = {
    "constant": {"type": "ConstantLR", "kwargs": {"factor": 0.25, "total_iters": 6}},
    "constant_default": {"type": "ConstantLR", "kwargs": {}},
    "multiplicative": {"type": "MultiplicativeLR", "lambda": "shrink"},
    "chained_constant_exponential": {"type": "ChainedScheduler", "schedulers": [
        {"type": "ConstantLR", "kwargs": {"factor": 0.1, "total_iters": 3}},
        {"type": "ExponentialLR", "kwargs": {"gamma": 0.9}}]},
    "chained_step_multiplicative": {"type": "ChainedScheduler", "schedulers": [
        {"type": "StepLR", "kwargs": {"step_size": 4, "gamma": 0.5}},
        {"type": "MultiplicativeLR", "lambda": "shrink"}]},
    "cyclic_triangular": {"type": "CyclicLR", "kwargs": {
        "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}},
    "cyclic_triangular2_groups": {"type": "CyclicLR", "kwargs": {
        "base_lr": [0.01, 0.002], "max_lr": [0.2, 0.05], "step_size_up": 3,
        "step_size_down": 5, "mode": "triangular2", "base_momentum": [0.7, 0.75]}},
    "cyclic_exp_range_adam": {"type": "CyclicLR", "optimizer": "Adam", "kwargs": {
        "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 5, "mode": "exp_range",
        "gamma": 0.97, "base_momentum": 0.85, "max_momentum": 0.95}},
    "cyclic_scale_fn_no_momentum": {"type": "CyclicLR", "scale_fn": "half_per_cycle",
                                    "kwargs": {"base_lr": 0.02, "max_lr": 0.3,
                                               "step_size_up": 2, "scale_mode": "iterations",
                                               "cycle_momentum": False}},
}

LAMBDAS = {"exp_095": lambda epoch: 0.95 ** epoch, "shrink": lambda epoch: 0.9 + 0.01 * (epoch % 3),
           "half_per_cycle": lambda x: 0.5 ** (x / 4)}

# What ReduceLROnPlateau watches, one value per epoch: a loss that falls with plateaus and
# noise, and an accuracy that rises and stalls.
METRICS = {
    "loss": [1.0 / (1 + 0.3 * e) + 0.02 * ((e * 7) % 5) for e in range(EPOCHS + 1)],
    "accuracy": [min(0.9, 0.3 + 0.05 * e) - 0.01 * ((e * 3) % 4) for e in range(EPOCHS + 1)],
}


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


def build_optimizer(lib, params: list, case: dict):
    """The optimizer of ``case`` (SGD unless it names a ``type``) over ``params``, built with
    ``lib.optim``."""
    cls = getattr(lib.optim, case.get("type", "SGD"))
    groups = case.get("groups")
    if groups is None:
        return cls(params, **case["defaults"])
    dict_groups = [dict(g, params=[params[i] for i in g["params"]]) for g in groups]
    return cls(dict_groups, **case["defaults"])


build_sgd = build_optimizer  # the name the SGD tests use


def run_optimizer(lib, case: dict, init: list, grads: list, steps: int = STEPS, optimizer=None,
                  params=None, start: int = 0):
    """Step the optimizer of ``case`` (SGD or another) over the given gradients; returns
    (params, optimizer, trajectories) where ``trajectories[i]`` is (steps, *shape): parameter
    i after each step."""
    if params is None:
        params = [lib.tensor(np.array(a), requires_grad=True) for a in init]
    if optimizer is None:
        optimizer = build_optimizer(lib, params, case)
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
    if kind == "ChainedScheduler":
        return module.ChainedScheduler([build_scheduler(lib, optimizer, s)
                                        for s in spec["schedulers"]])
    if kind in ("LambdaLR", "MultiplicativeLR"):
        return getattr(module, kind)(optimizer, LAMBDAS[spec["lambda"]])
    if "scale_fn" in spec:
        return getattr(module, kind)(optimizer, scale_fn=LAMBDAS[spec["scale_fn"]],
                                     **spec["kwargs"])
    return getattr(module, kind)(optimizer, **spec["kwargs"])


def scheduled_optimizer(lib, spec: dict):
    """Two param groups (lrs SCHED_BASE_LRS) of the optimizer ``spec`` names (SGD with
    momentum unless it says ``"optimizer": "Adam"``)."""
    params = [lib.tensor(np.zeros(2), requires_grad=True) for _ in SCHED_BASE_LRS]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, SCHED_BASE_LRS)]
    if spec.get("optimizer") == "Adam":
        return lib.optim.Adam(groups, lr=1.0)
    return lib.optim.SGD(groups, lr=1.0, momentum=0.9)


def step_scheduler(scheduler, spec: dict, epoch: int) -> None:
    """Step ``scheduler`` into ``epoch`` the way ``spec`` says: plainly, with the metric of
    that epoch (ReduceLROnPlateau), or to a fractional epoch (warm restarts)."""
    if "metrics" in spec:
        scheduler.step(METRICS[spec["metrics"]][epoch])
    elif "epoch_per_step" in spec:
        scheduler.step(epoch * spec["epoch_per_step"])
    else:
        scheduler.step()


def momenta(optimizer) -> list:
    """Each group's momentum (SGD) or beta1 (Adam): what OneCycleLR cycles."""
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in optimizer.param_groups]


def run_scheduler(lib, spec: dict, epochs: int = EPOCHS, with_momentum: bool = False):
    """The lrs of two param groups after construction and after each of ``epochs`` steps:
    an array (epochs + 1, 2); with ``with_momentum`` also each group's momentum/beta1 (same
    shape). Also checks ``get_last_lr`` agrees with the groups."""
    optimizer = scheduled_optimizer(lib, spec)
    scheduler = build_scheduler(lib, optimizer, spec)
    lrs = np.empty((epochs + 1, len(SCHED_BASE_LRS)))
    moms = np.empty_like(lrs)
    for epoch in range(epochs + 1):
        if epoch > 0:
            optimizer.step()
            step_scheduler(scheduler, spec, epoch)
        lrs[epoch] = [g["lr"] for g in optimizer.param_groups]
        moms[epoch] = momenta(optimizer)
        assert list(scheduler.get_last_lr()) == list(lrs[epoch]), epoch
    return (lrs, moms) if with_momentum else lrs


run_sgd = run_optimizer  # the name the SGD tests use


def final_state(optimizer, params, kind: str) -> dict:
    """``{(i, name): array}``: each state buffer torch names for parameter ``i``, plus
    ``(i, "step")``, as plain numpy arrays (works on both libraries)."""
    out = {}
    for i, p in enumerate(params):
        state = optimizer.state.get(p, {})
        for name in STATE_KEYS[kind] + ("step",):
            if name in state:
                out[(i, name)] = np.array(state[name].detach().numpy(), dtype=np.float64)
    return out
