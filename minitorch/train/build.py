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

from .errors import TrainerError
from .freeze import HEAD_PREFIX
from .memory_budget import training_bytes

__all__ = ["read_weights", "build_data", "build_model", "build_optimizer", "build_scheduler",
           "fast_forward_scheduler", "as_float_list"]


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


def build_optimizer(config, params):
    """SGD over exactly ``params`` (the trainable parameters), one group."""
    o = config.train.optimizer
    return optim.SGD(params, lr=o.lr, momentum=o.momentum, dampening=o.dampening,
                     weight_decay=o.weight_decay, nesterov=o.nesterov)


def build_scheduler(config, optimizer):
    """The per-epoch learning-rate schedule (None for a constant lr without warmup).

    ``warmup_epochs`` > 0 ramps linearly from lr/(warmup+1) before the main schedule, which then
    counts its epochs from the end of the warmup (cosine anneals over the remaining epochs).
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
        main = sched.CosineAnnealingLR(optimizer, T_max=main_epochs)
    else:
        main = None
    if not warmup:
        return main
    ramp = sched.LinearLR(optimizer, start_factor=1.0 / (warmup + 1), end_factor=1.0,
                          total_iters=warmup)
    if main is None:
        return ramp   # LinearLR holds the base lr once the ramp is over
    return sched.SequentialLR(optimizer, [ramp, main], milestones=[warmup])


def fast_forward_scheduler(scheduler, epochs):
    """Step a fresh scheduler ``epochs`` times: the same float operations, in the same order,
    as the run that is being resumed, so the lrs match it bitwise even when ``train.epochs``
    was raised on resume (a cosine schedule then stretches exactly as in an uninterrupted run).
    """
    if scheduler is None:
        return
    for _ in range(epochs):
        scheduler.step()
