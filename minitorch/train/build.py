"""Build what a config describes: the weights file's description, the data, the model (with
pretrained weights and, when the class count differs, a new head), the optimizer and the schedule.

Every builder validates its input and raises a one-line user error (``TrainerError`` or the
layer's own type) *before* the trainer writes anything.
"""
import os

import numpy as np

from minitorch import nn, optim
from minitorch.data import DataFileNotFoundError, build_datasets
from minitorch.data.datasets.image_folder import decode_image
from minitorch.io import CorruptFileError, NonFiniteError, check_weights_attrs, read_weights_file
from minitorch.nn.module import StateDictError

from .config_optim import OPTIMIZER_CLASSES, OPTIMIZER_KEYS, SGD_MOMENTUM
from .errors import TrainerError
from .freeze import HEAD_PREFIX
from .memory_budget import training_bytes

__all__ = ["read_weights", "build_data", "build_model", "build_optimizer", "build_scheduler",
           "fast_forward_scheduler", "step_scheduler", "scheduled_keys", "optimizer_arguments",
           "describe_optimizer", "as_float_list"]


def as_float_list(values):
    """Plain floats (for YAML, JSON and HDF5 attributes), or None."""
    if values is None:
        return None
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def _weights_budget(model_config):
    """Bytes a weights file for this model may make the reader allocate: twice the model's
    parameters, plus room for a head of any reasonable class count."""
    m = model_config
    params, _ = training_bytes(m.width, m.in_channels, m.variant, m.num_classes, 1, 1)
    return 2 * params // 3 + 64 * 2**20


def read_weights(path, model_config=None):
    """(state dict, attributes) of ``model.weights``: a weights file, a checkpoint (its model)
    or a .safetensors file (``~`` expanded); one-line errors naming the key.

    With ``model_config`` (the config's ``model`` section) the file may not declare more data
    than that model needs, and ``model_config.allow_nonfinite`` lets NaN/Inf weights through.
    """
    if path is None:
        return None, {}
    path = os.path.expanduser(path)
    if not os.path.exists(path):
        raise TrainerError(f"model.weights: file not found: {path} (torchvision weights: "
                           f"python scripts/convert_torchvision.py resnet18-f37072fd.pth "
                           f"{path}; or model.weights: null for a random start)")
    budget = None if model_config is None else _weights_budget(model_config)
    allow = bool(getattr(model_config, "allow_nonfinite", False))
    try:
        state, attrs, _ = read_weights_file(path, allow_nonfinite=allow, max_bytes=budget)
        check_weights_attrs(attrs, path, state)
    except NonFiniteError as exc:
        hint = str(exc).replace("pass allow_nonfinite=True", "set model.allow_nonfinite: true")
        raise TrainerError(f"model.weights: {hint}") from None
    except (CorruptFileError, OSError) as exc:
        raise TrainerError(f"model.weights: {exc}") from None
    if "conv1.weight" not in state:
        raise TrainerError(f"model.weights: {path} is not a ResNet state dict (no conv1.weight)")
    return state, attrs


def _verify_images(dataset):
    """Decode every image of an image folder now, so a corrupt file is named before training."""
    samples = getattr(dataset, "samples", None)
    for path, _ in samples or ():
        decode_image(path)


def build_data(config, weights_attrs=None):
    """(train set, val set, class names, mean, std); mean/std: the config's, else the weights
    file's, else the dataset's defaults."""
    data, attrs = config.data, weights_attrs or {}
    mean, std = attrs.get("mean"), attrs.get("std")
    try:
        train_set, val_set, class_names = build_datasets(
            data, seed=config.seed, mean=mean, std=std, in_channels=config.model.in_channels)
    except DataFileNotFoundError as exc:
        raise TrainerError(f"data.root: {exc}") from None
    _verify_images(train_set.dataset)
    channels = np.asarray(val_set[0][0]).shape[0]
    if channels != config.model.in_channels:
        raise TrainerError(f"model.in_channels is {config.model.in_channels} but the images of "
                           f"{data.root or data.dataset} have {channels} channels")
    return (train_set, val_set, list(class_names), as_float_list(train_set.mean),
            as_float_list(train_set.std))


def resolve_num_classes(config, class_names):
    """model.num_classes, checked against the data (null: the data's class count)."""
    wanted = config.model.num_classes
    if wanted is not None and wanted != len(class_names):
        shown = ", ".join(map(str, class_names[:10])) + (", ..." if len(class_names) > 10 else "")
        raise TrainerError(f"model.num_classes is {wanted} but the data has {len(class_names)} "
                           f"classes ({shown}); set model.num_classes: {len(class_names)} or "
                           f"null, or choose data.classes")
    return len(class_names)


def _architecture(m):
    return (f"resnet18(variant={m.variant!r}, width={m.width}, "
            f"in_channels={m.in_channels})")


def _mismatch_message(path, m, error, attrs):
    problems = [f"size mismatch for {k}: {tuple(src)} in the file, {tuple(dst)} in the model"
                for k, src, dst in error.mismatched]
    problems += [f"missing key {k}" for k in error.missing_keys]
    problems += [f"unexpected key {k}" for k in error.unexpected_keys]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    made = f"; the file says arch={attrs['arch']!r}" if "arch" in attrs else ""
    return (f"model.weights: {path} does not fit {_architecture(m)}: {problems[0]}{more}{made}; "
            f"check model.variant, model.width and model.in_channels")


def build_model(config, class_names, weights_state=None, weights_attrs=None):
    """(model, note): ResNet-18 as configured, pretrained weights loaded strictly; a file whose
    head has another class count (or, by its ``class_names`` attribute, other classes) gets its
    ``fc`` replaced by a new ``nn.Linear`` (the tutorial's way). ``note`` says what happened to
    the head (or None)."""
    from models import resnet18   # the model zoo sits beside the package, imported on use

    m, num_classes = config.model, len(class_names)
    kwargs = dict(variant=m.variant, width=m.width, in_channels=m.in_channels)
    if weights_state is None:
        return resnet18(num_classes=num_classes, **kwargs), None
    head = weights_state.get(f"{HEAD_PREFIX}.weight")
    file_classes = int(head.shape[0]) if head is not None else num_classes
    model = resnet18(num_classes=file_classes, **kwargs)
    try:
        if head is None:   # a headless backbone file: everything else must match exactly
            _load_headless(model, weights_state)
        else:
            model.load_state_dict(weights_state)
    except StateDictError as error:
        raise TrainerError(_mismatch_message(m.weights, m, error, weights_attrs or {})) from None
    file_names = (weights_attrs or {}).get("class_names")
    same_classes = file_classes == num_classes and (
        file_names is None or [str(c) for c in file_names] == [str(c) for c in class_names])
    if same_classes:
        return model, f"weights {m.weights} loaded, head kept ({num_classes} classes)"
    # Another class count, or the same count of other classes (digits 0-4 -> 5-9): the old head
    # means nothing for the new classes, so it is replaced by a freshly initialised one.
    was = f"{file_classes} classes" + (f" {list(file_names)}" if file_names else "")
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model, (f"weights {m.weights} loaded except fc ({was}), replaced by "
                   f"a new Linear({model.fc.in_features}, {num_classes})")


def _load_headless(model, state):
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(HEAD_PREFIX + ".")]
    if missing or unexpected:
        raise StateDictError(type(model).__name__, missing, unexpected, [])


def optimizer_arguments(config):
    """(torch.optim class name, keyword arguments) of ``train.optimizer``: the keys its
    optimizer takes, null ones left to the optimizer's own (PyTorch's) default."""
    o = config.train.optimizer
    kwargs = {"lr": o.lr}
    for key in OPTIMIZER_KEYS[o.name]:
        value = getattr(o, key)
        if value is None and key == "momentum" and o.name == "sgd":
            value = SGD_MOMENTUM
        if value is not None:
            kwargs[key] = tuple(value) if key == "betas" else value
    return OPTIMIZER_CLASSES[o.name], kwargs


def describe_optimizer(config) -> str:
    """``AdamW(lr=0.001, weight_decay=0.05)``: the class and the arguments that differ from
    its defaults (lr and, for SGD, momentum always shown)."""
    name, kwargs = optimizer_arguments(config)
    shown = {k: v for k, v in kwargs.items()
             if k in ("lr", "momentum") or v != _DEFAULTS.get(name, {}).get(k)}
    return f"{name}({', '.join(f'{k}={v}' for k, v in shown.items())})"


# Arguments at these values are not repeated in the summary line.
_DEFAULTS = {"SGD": {"dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
             "Adam": {"amsgrad": False}, "AdamW": {"amsgrad": False},
             "RMSprop": {"alpha": 0.99, "centered": False},
             "Adagrad": {"lr_decay": 0.0, "initial_accumulator_value": 0.0},
             "Adadelta": {"rho": 0.9}}


def build_optimizer(config, params):
    """The configured optimizer over exactly ``params`` (the trainable parameters, or param
    group dicts: ``recipes/param_groups.py``); a value the optimizer rejects is a one-line
    TrainerError naming the section."""
    name, kwargs = optimizer_arguments(config)
    try:
        return getattr(optim, name)(params, **kwargs)
    except ValueError as exc:
        raise TrainerError(f"train.optimizer: {exc}") from None


def build_scheduler(config, optimizer):
    """The per-epoch learning-rate schedule (None for a constant lr without warmup).

    ``warmup_epochs`` > 0 ramps linearly from lr/(warmup+1) before the main schedule, which then
    counts its epochs from the end of the warmup (cosine anneals over the remaining epochs).
    ``plateau`` is stepped with the validation metric (``step_scheduler``).
    """
    s, epochs = config.train.scheduler, config.train.epochs
    sched = optim.lr_scheduler
    warmup = min(s.warmup_epochs, epochs)
    main_epochs = max(1, epochs - warmup)
    if s.name == "step":
        main = sched.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma)
    elif s.name == "multistep":
        main = sched.MultiStepLR(optimizer, milestones=s.milestones, gamma=s.gamma)
    elif s.name == "cosine":
        main = sched.CosineAnnealingLR(optimizer, T_max=main_epochs, eta_min=s.eta_min)
    elif s.name == "exponential":
        main = sched.ExponentialLR(optimizer, gamma=s.gamma)
    elif s.name == "polynomial":
        main = sched.PolynomialLR(optimizer, total_iters=main_epochs, power=s.power)
    elif s.name == "cosine_restarts":
        main = sched.CosineAnnealingWarmRestarts(optimizer, T_0=s.T_0, T_mult=s.T_mult,
                                                 eta_min=s.eta_min)
    elif s.name == "onecycle":
        return sched.OneCycleLR(
            optimizer, max_lr=s.max_lr or config.train.optimizer.lr, total_steps=epochs,
            pct_start=s.pct_start, anneal_strategy=s.anneal_strategy,
            cycle_momentum=s.cycle_momentum, div_factor=s.div_factor,
            final_div_factor=s.final_div_factor, three_phase=s.three_phase)
    elif s.name == "plateau":
        return sched.ReduceLROnPlateau(
            optimizer, mode="min" if s.monitor == "val_loss" else "max", factor=s.gamma,
            patience=s.patience, threshold=s.threshold, threshold_mode=s.threshold_mode,
            cooldown=s.cooldown, min_lr=s.min_lr)
    else:
        main = None
    if not warmup:
        return main
    ramp = sched.LinearLR(optimizer, start_factor=1.0 / (warmup + 1), end_factor=1.0,
                          total_iters=warmup)
    if main is None:
        return ramp   # LinearLR holds the base lr once the ramp is over
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warmup])


def scheduled_keys(scheduler) -> tuple:
    """The param-group keys ``scheduler`` writes: on resume the replayed values of these win
    over the checkpoint's (which a shorter run's schedule may have set differently)."""
    keys = ("lr", "initial_lr")
    if isinstance(scheduler, optim.lr_scheduler.OneCycleLR):
        keys += ("max_lr", "min_lr")
        if scheduler.cycle_momentum:
            keys += ("max_momentum", "base_momentum",
                     "betas" if scheduler.use_beta1 else "momentum")
    return keys


def step_scheduler(scheduler, config, record) -> None:
    """The end-of-epoch step: ``plateau`` gets the monitored metric of ``record`` (a dict with
    ``val_loss``/``val_acc``), every other schedule a plain ``step()``."""
    if scheduler is None:
        return
    if isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(record[config.train.scheduler.monitor])
    else:
        scheduler.step()


def fast_forward_scheduler(scheduler, epochs, config=None, history=()):
    """Step a fresh scheduler ``epochs`` times: the same float operations, in the same order,
    as the run that is being resumed, so the lrs match it bitwise even when ``train.epochs``
    was raised on resume (a cosine schedule then stretches exactly as in an uninterrupted run).
    ``plateau`` replays the recorded metrics of ``history`` (one record per finished epoch).
    """
    if scheduler is None:
        return
    for epoch in range(epochs):
        record = history[epoch] if epoch < len(history) else None
        if record is None and isinstance(scheduler, optim.lr_scheduler.ReduceLROnPlateau):
            raise TrainerError(f"--resume: the checkpoint's history has {len(history)} "
                               f"epochs, the plateau schedule needs the metrics of {epochs}")
        step_scheduler(scheduler, config, record)
