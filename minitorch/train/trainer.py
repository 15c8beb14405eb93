"""The finetuning loop: one config in, a trained model, checkpoints, metrics and plots out.

    trainer = Trainer(config, resume="auto")   # builds and validates everything, writes nothing
    trainer.fit()                              # then writes into config.output.dir

Construction checks the config, the data, the weights and the checkpoint to resume from, so a
user error surfaces before anything in the output folder is touched. ``fit`` writes
``config.yaml`` once, then per epoch (on rank 0 only): a line in ``metrics.jsonl``, ``best.h5``
when validation accuracy improves, ``last.h5`` and ``curves.png``. Every file write is atomic and
the epoch's history travels inside the checkpoints, so a run killed at any moment resumes from
its last whole checkpoint with each epoch in ``metrics.jsonl`` exactly once.

Exact resume: the data order and augmentation are functions of (seed, epoch), the lr schedule is
replayed step by step, and model, optimizer (by parameter name) and RNG states come back bitwise.
The resumed run then computes the same bits as an uninterrupted one when it uses the same numba
and BLAS thread counts (a sum split over another number of threads rounds differently).

Data parallelism (``mpiexec -n N``): ``sync_gradients`` is the one seam between backward and
the optimizer step; each rank reads its own shard of every global batch.
"""
import os
import random
import sys
import time

import numpy as np

import minitorch as mt
from minitorch import distributed as dist
from minitorch import nn
from minitorch.data import DataLoader, DistributedSampler
from minitorch.io import (load_checkpoint, load_optimizer_state_by_name, restore_rng_state,
                          save_checkpoint)
from minitorch.nn.module import StateDictError

from . import build
from .classifier import transform_attrs
from .config import dump_config
from .errors import TrainerError
from .feature_cache import FeatureCache, feature_cache_status
from .freeze import (HEAD_PREFIX, apply_freeze, check_optimizer_coverage, parameter_counts,
                     resolve_freeze, set_train_mode)
from .metrics import EpochMeter, MetricsLog
from .plots import plot_curves

__all__ = ["Trainer", "resolve_resume_path"]

# What atomic writes of this run's files leave behind when killed before the rename.
_TEMP_PREFIXES = (".last.h5.tmp", ".best.h5.tmp", ".metrics.jsonl.tmp", ".curves.png.tmp",
                  ".config-")


def _seed_everything(seed):
    """Seed every generator a run may draw from: minitorch's (initialisation), and numpy's and
    Python's global ones (for user code), so their states in a checkpoint are reproducible too.
    The data order and augmentation have their own (seed, epoch) generators."""
    mt.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def resolve_resume_path(resume, out_dir):
    """The checkpoint to resume from: None (fresh), ``auto`` (last.h5 if present) or a path."""
    if resume is None:
        return None
    if resume == "auto":
        path = os.path.join(out_dir, "last.h5")
        return path if os.path.isfile(path) else None
    if not os.path.isfile(resume):
        raise TrainerError(f"--resume: checkpoint not found: {resume}")
    return resume


class Trainer:
    """Finetune the model a ``Config`` describes; see the module docstring."""

    def __init__(self, config, resume=None, out=None):
        self.config, self.out = config, out
        dist.init()
        mt.runtime.configure()   # BLAS threads, the product pool, allocator (minitorch.runtime)
        self.is_main, self.world = dist.is_main_process(), dist.world_size()
        self.out_dir = config.output.dir
        if os.path.exists(self.out_dir) and not os.path.isdir(self.out_dir):
            raise TrainerError(f"output.dir: {self.out_dir} exists and is not a folder")
        self._build(config)
        self.epoch, self.global_step, self.history = 0, 0, []
        self.resume_path = resolve_resume_path(resume, self.out_dir)
        if self.resume_path is not None:
            self._load_resume(self.resume_path)
        self.grad_sync.broadcast_initial()   # replicas start bitwise equal (no-op alone)

    # ----- construction ----------------------------------------------------------------------

    def _build(self, config):
        weights_state, weights_attrs = build.read_weights(config.model.weights, config.model)
        (self.train_set, self.val_set, self.class_names, self.mean,
         self.std) = build.build_data(config, weights_attrs)
        self.num_classes = build.resolve_num_classes(config, self.class_names)
        dist.check_dataset_size(len(self.train_set), self.world)
        _seed_everything(config.seed)   # model init, the new head: the same on every run
        self.model, self.head_note = build.build_model(config, self.class_names, weights_state,
                                                       weights_attrs)
        self.plan = resolve_freeze(self.model, config.model.freeze)
        apply_freeze(self.model, self.plan)
        if self.world > 1:
            dist.convert_sync_batchnorm(self.model)   # global-batch statistics when training
        self.grad_sync = dist.GradientSync(self.model)
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = build.build_optimizer(config, self.trainable)
        check_optimizer_coverage(self.optimizer, self.model)
        self.scheduler = build.build_scheduler(config, self.optimizer)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing)
        self.val_criterion = nn.CrossEntropyLoss()
        self._build_loaders(config)
        usable, self.cache_note = feature_cache_status(config, self.model, self.plan,
                                                       self.train_set)
        self.feature_cache = FeatureCache(self.model, config.data.batch_size,
                                          reuse=config.train.feature_cache == "auto",
                                          progress=self._progress) if usable else None

    def _build_loaders(self, config):
        seed, batch = config.seed, config.data.batch_size
        rank = dist.rank()
        # The same (seed, epoch) order for any number of ranks: rank r reads every world-th
        # sample, so the ranks' batches together are the one-process global batch.
        train_sampler = DistributedSampler(self.train_set, num_replicas=self.world, rank=rank,
                                           shuffle=True, seed=seed)
        val_sampler = DistributedSampler(self.val_set, num_replicas=self.world, rank=rank,
                                         shuffle=False, seed=seed, pad=False)
        self.train_loader = DataLoader(self.train_set, batch_size=batch, sampler=train_sampler,
                                       seed=seed)
        self.val_loader = DataLoader(self.val_set, batch_size=batch, sampler=val_sampler,
                                     seed=seed)

    def _load_resume(self, path):
        try:
            ckpt = load_checkpoint(path)
        except (OSError, ValueError) as exc:
            raise TrainerError(f"--resume: {exc}") from None
        try:
            self.model.load_state_dict(ckpt["model"])
        except StateDictError as error:
            first = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 \
                else str(error)
            raise TrainerError(f"--resume: {path} does not fit the model of this config: "
                               f"{first}") from None
        epoch = int(ckpt["epoch"])
        extra = ckpt.get("extra") or {}
        history = [dict(r) for r in extra.get("history", [])][:epoch]
        # Replay the schedule first (from the config's base lr; plateau on the recorded
        # metrics), then take the optimizer's state (momentum buffers, moments) and put the
        # replayed lrs back over the saved ones.
        build.fast_forward_scheduler(self.scheduler, epoch, self.config, history)
        keys = build.scheduled_keys(self.scheduler)   # lr, and momentum/beta1 for onecycle
        replayed = [{k: g[k] for k in keys if k in g} for g in self.optimizer.param_groups]
        if ckpt.get("optimizer") is not None:
            load_optimizer_state_by_name(self.optimizer, self.model, ckpt["optimizer"])
        for group, values in zip(self.optimizer.param_groups, replayed):
            group.update(values)
        restore_rng_state(ckpt["rng"])
        self.history = history
        self.epoch, self.global_step = epoch, int(ckpt["global_step"])

    # ----- the loop --------------------------------------------------------------------------

    def fit(self):
        """Train from ``self.epoch`` to ``train.epochs``; returns the metrics history."""
        self._prepare_output()
        self.print_summary()
        for epoch in range(self.epoch + 1, self.config.train.epochs + 1):
            start = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            train_loss, train_acc = self.train_epoch(epoch)
            val_loss, val_acc = self.evaluate()
            build.step_scheduler(self.scheduler, self.config,
                                 {"val_loss": val_loss, "val_acc": val_acc})
            self.epoch = epoch
            record = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                      "val_loss": val_loss, "val_acc": val_acc, "lr": lr,
                      "seconds": round(time.perf_counter() - start, 3)}
            self._end_epoch(record)
        self._finish()
        return self.history

    def train_epoch(self, epoch):
        """One pass over this rank's shard: (mean loss, accuracy) over the global epoch."""
        set_train_mode(self.model, self.plan, True)
        self.train_loader.set_epoch(epoch)
        batches, forward = self.train_loader, self.forward
        if self.feature_cache is not None:   # the frozen backbone ran apart: train the head
            batches = self.feature_cache.batches(self.train_loader.batch_indices(),
                                                 self.train_set)
            forward = getattr(self.model, HEAD_PREFIX)
        meter = EpochMeter()
        bar = self._progress(batches, f"epoch {epoch}/{self.config.train.epochs}")
        for x, y in bar:
            logits, loss = self.train_step(x, y, forward)
            meter.update(loss, logits, y)
            bar.set_postfix(loss=f"{meter.loss:.4f}", acc=f"{meter.acc:.3f}", refresh=False)
        bar.close()
        return EpochMeter.means(self.grad_sync.reduce_metrics(meter.sums()))

    def train_step(self, x, y, forward=None):
        """Forward, backward, gradient sync, optimizer step: (logits, loss value).

        ``forward`` is the model by default, the head alone on cached backbone features."""
        logits = (forward or self.forward)(x)
        loss = self.criterion(logits, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.sync_gradients(self.trainable)
        self.optimizer.step()
        self.global_step += 1
        return logits._data, loss.item()

    def forward(self, x):
        """The whole model's forward (see feature_cache.py for the split backbone/head)."""
        return self.model(x)

    def sync_gradients(self, params):
        """THE seam between backward and ``optimizer.step``: average the gradients of
        ``params`` across data-parallel ranks (a no-op in a single process)."""
        self.grad_sync.sync(params)

    def evaluate(self, loader=None):
        """(val loss, val acc) over every rank's validation shard (or over ``loader``)."""
        set_train_mode(self.model, self.plan, False)
        batches, forward = loader or self.val_loader, self.model
        if loader is None and self.feature_cache is not None:
            batches = self.feature_cache.val_batches(self.val_loader)
            forward = getattr(self.model, HEAD_PREFIX)
        meter = EpochMeter()
        with mt.no_grad():
            for x, y in batches:
                logits = forward(x)
                meter.update(self.val_criterion(logits, y).item(), logits._data, y)
        return EpochMeter.means(self.grad_sync.reduce_metrics(meter.sums()))

    # ----- output (rank 0 only) --------------------------------------------------------------

    def _path(self, name):
        return os.path.join(self.out_dir, name)

    def _prepare_output(self):
        """Create the folder, write the resolved config and bring metrics.jsonl in line with
        the checkpoint (a resumed run drops epochs that finished after it)."""
        if not self.is_main:
            return
        os.makedirs(self.out_dir, exist_ok=True)
        self._remove_stale_temporaries()
        dump_config(self.config, self._path("config.yaml"))
        MetricsLog(self._path("metrics.jsonl")).rewrite(self.history)

    def _remove_stale_temporaries(self):
        """Temporary files of a killed run's atomic writes (never renamed into place)."""
        for name in os.listdir(self.out_dir):
            if name.startswith(_TEMP_PREFIXES) and ".tmp" in name:
                os.remove(os.path.join(self.out_dir, name))

    def _best(self):
        """(best val_acc, its epoch) in the history; the first epoch wins a tie."""
        best = (None, None)
        for r in self.history:
            if r["val_acc"] is not None and (best[0] is None or r["val_acc"] > best[0]):
                best = (r["val_acc"], r["epoch"])
        return best

    def _end_epoch(self, record):
        previous_best = self._best()[0]
        self.history.append(record)
        if not self.is_main:
            return
        self._say(f"epoch {record['epoch']}/{self.config.train.epochs}  "
                  f"train_loss {record['train_loss']:.4f}  train_acc {record['train_acc']:.4f}  "
                  f"val_loss {record['val_loss']:.4f}  val_acc {record['val_acc']:.4f}  "
                  f"lr {record['lr']:.3g}  {record['seconds']:.1f}s")
        # Order matters for a kill at any moment: the metrics line first, then best.h5, then
        # last.h5; a resume from the previous last.h5 replays this epoch bitwise and rewrites
        # each of them, and the history inside the checkpoint restores metrics.jsonl.
        MetricsLog(self._path("metrics.jsonl")).append(record)
        improved = previous_best is None or record["val_acc"] > previous_best
        if improved and self.config.output.save_best:
            self._save(self._path("best.h5"))
        self._save(self._path("last.h5"))
        if self.config.output.plot:
            plot_curves(self.history, self._path("curves.png"), title=self.out_dir)

    def _save(self, path):
        best_acc, best_epoch = self._best()
        extra = {"history": self.history, "best_val_acc": best_acc, "best_epoch": best_epoch,
                 "class_names": self.class_names, "mean": self.mean, "std": self.std,
                 "num_classes": self.num_classes}
        # the eval transform too, so predict and evaluate preprocess exactly as validation did
        attrs = {"arch": "resnet18", "num_classes": self.num_classes,
                 **transform_attrs(self.config, self.class_names, self.mean, self.std)}
        save_checkpoint(path, model=self.model, optimizer=self.optimizer,
                        scheduler=self.scheduler, epoch=self.epoch,
                        global_step=self.global_step, config=self.config, extra=extra,
                        attrs=attrs)

    def _finish(self):
        dist.barrier()
        if not self.is_main:
            return
        best_acc, best_epoch = self._best()
        if best_acc is None:
            self._say(f"nothing to do: {self.resume_path} already holds "
                      f"{self.epoch} of {self.config.train.epochs} epochs")
            return
        where = self._path("best.h5") if self.config.output.save_best else self._path("last.h5")
        self._say(f"best val_acc {best_acc:.4f} (epoch {best_epoch}): {where}")

    # ----- reporting -------------------------------------------------------------------------

    def _say(self, text):
        if self.is_main:   # sys.stdout looked up now: it may have been redirected since
            print(text, file=self.out or sys.stdout, flush=True)

    def _progress(self, iterable, desc, total=None):
        from tqdm import tqdm   # to stderr; off on other ranks and when stderr is no terminal
        total = len(self.train_loader) if total is None else total
        return tqdm(iterable, desc=desc, total=total, leave=False,
                    file=sys.stderr, disable=None if self.is_main else True, dynamic_ncols=True)

    def summary_lines(self):
        """What will be trained, in a few lines (printed before the first epoch)."""
        c, m = self.config, self.config.model
        trainable, n_train, frozen, n_frozen = parameter_counts(self.model)
        bns = self.plan.frozen_bn
        bn_text = "none" if not bns else (f"{len(bns)} in eval mode ("
                                          f"{', '.join(bns[:3])}{', ...' if len(bns) > 3 else ''})")
        lines = [
            f"model: resnet18 variant={m.variant} width={m.width}, {self.num_classes} classes; "
            f"{self.head_note or 'random init (no model.weights)'}",
            f"freeze: {m.freeze!r} -> trainable {trainable:,} parameters ({n_train} tensors), "
            f"frozen {frozen:,} ({n_frozen} tensors)",
            f"frozen BatchNorm layers: {bn_text}",
            f"optimizer: {build.describe_optimizer(c)} "
            f"over {len(self.trainable)} tensors: every trainable parameter, no frozen one; "
            f"scheduler: {c.train.scheduler.name}",
            f"feature cache: {self.cache_note}",
            f"data: {c.data.dataset} {len(self.train_set)} train / {len(self.val_set)} val, "
            f"classes {self.class_names}, batch {c.data.batch_size} x {self.world} process(es)",
        ]
        if self.resume_path:
            lines.append(f"resumed from {self.resume_path} at epoch {self.epoch}")
        elif os.path.isfile(self._path("last.h5")):
            lines.append(f"note: starting fresh in {self.out_dir}; its previous run's files are "
                         f"replaced as this run writes (--resume auto would continue it)")
        return lines

    def print_summary(self):
        for line in self.summary_lines():
            self._say(line)
