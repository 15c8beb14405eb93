"""The few lines a run prints before its first epoch: the model, what is frozen, the optimizer
and its param groups, the recipes, the feature cache, the data, and where it resumes from."""
import os

from . import build
from .freeze import parameter_counts
from .recipes import describe_groups

__all__ = ["summary_lines"]


def summary_lines(t):
    """What trainer ``t`` will train, one line per aspect."""
    c, m = t.config, t.config.model
    trainable, n_train, frozen, n_frozen = parameter_counts(t.model)
    bns = t.plan.frozen_bn
    bn_text = "none" if not bns else (f"{len(bns)} in eval mode ("
                                      f"{', '.join(bns[:3])}{', ...' if len(bns) > 3 else ''})")
    pending = len(t.recipes.pending())
    held = f" (+{pending} held for train.unfreeze)" if pending else ""
    lines = [
        f"model: resnet18 variant={m.variant} width={m.width}, {t.num_classes} classes; "
        f"{t.head_note or 'random init (no model.weights)'}",
        f"freeze: {m.freeze!r} -> trainable {trainable:,} parameters ({n_train} tensors), "
        f"frozen {frozen:,} ({n_frozen} tensors)",
        f"frozen BatchNorm layers: {bn_text}",
        f"optimizer: {build.describe_optimizer(c)} "
        f"over {len(t.trainable)} tensors: every trainable parameter, no frozen one{held}; "
        f"scheduler: {c.train.scheduler.name}",
        f"feature cache: {t.cache_note}",
        f"data: {c.data.dataset} {len(t.train_set)} train / {len(t.val_set)} val, "
        f"classes {t.class_names}, batch {c.data.batch_size} x {t.world} process(es)",
    ]
    lines += t.recipes.summary_lines()
    if len(t.optimizer.param_groups) > 1:
        lines += ["param groups:"] + describe_groups(t.optimizer, t.model)
    if t.resume_path:
        lines.append(f"resumed from {t.resume_path} at epoch {t.epoch}")
        if getattr(t, "resume_note", None):
            lines.append(f"note: {t.resume_note}")
    elif os.path.isfile(t._path("last.h5")):
        lines.append(f"note: starting fresh in {t.out_dir}; its previous run's files are "
                     f"replaced as this run writes (--resume auto would continue it)")
    return lines
