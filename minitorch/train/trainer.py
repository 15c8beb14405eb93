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

Data parallelism (``mpiexec -n N``): each rank reads its own shard of every global batch and
``sync_gradients`` sums the gradients (``epoch_loop.py``, with the training and validation
passes).

Reliability (issue 16): one run per folder (``run_lock.py``); nothing is written before
everything checkable is checked, and a failed write is one line (``RunWriteError``); a
non-finite loss stops the run before the step that would spoil the model
(``NonFiniteLossError``); SIGINT/SIGTERM stop it between steps (``signals.py``).

Recipes (issue 14, ``recipes/``): the optimizer's param groups come from them (per-layer lrs,
the parameters of later unfreeze steps); they run at the trainer's hooks (``hooks.py``).
Resuming checks and restores a checkpoint in ``resume.py``.
"""
import math
import os
import random
import sys
import time

import numpy as np

import minitorch as mt
from minitorch import distributed as dist
from minitorch import nn
from minitorch.data import DataLoader, DistributedSampler
from minitorch.io import atomic_copy, atomic_write_text, save_checkpoint

from . import build
from .classifier import transform_attrs
from .epoch_loop import EpochLoop
from .errors import NonFiniteLossError, TrainerError, writing
from .feature_cache import FeatureCache, feature_cache_status
from .freeze import apply_freeze, check_optimizer_coverage, resolve_freeze
from .hooks import RecipeHooks
from .metrics import MetricsLog
from .plots import plot_curves
from .recipes import Recipes
from .resume import (keep_eval_resize, read_resume_checkpoint, resolve_resume_path,
                     restore_checkpoint)
from .run_lock import RunLock, remove_stale_temporaries
from .signals import StopRequests
from .step_guard import StepGuard
from .summary import summary_lines

__all__ = ["Trainer", "resolve_resume_path", "OUTPUT_FILES"]

# Every file a run writes into output.dir.
OUTPUT_FILES = ("config.yaml", "metrics.jsonl", "best.h5", "last.h5", "curves.png")
_PLOT_EVERY_SECONDS = 30.0


def _seed_everything(seed):
    """Seed every generator a run may draw from: minitorch's (initialisation), and numpy's and
    Python's global ones (for user code), so their states in a checkpoint are reproducible too.
    The data order and augmentation have their own (seed, epoch) generators."""
    mt.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


class Trainer(RecipeHooks, EpochLoop):
    """Finetune the model a ``Config`` describes; see the module docstring."""

    def __init__(self, config, resume=None, out=None, resume_anyway=False, stops=None):
        """``resume_anyway``: continue a checkpoint whose data differ from the config's;
        ``stops``: the CLI's installed ``StopRequests`` (SIGINT/SIGTERM), if any."""
        self.config, self.out = config, out
        self.stops = stops or StopRequests()   # not installed: never set
        dist.init()
        mt.runtime.configure()   # BLAS threads, the product pool, allocator (minitorch.runtime)
        self.is_main, self.world = dist.is_main_process(), dist.world_size()
        self.out_dir = config.output.dir
        if os.path.lexists(self.out_dir) and not os.path.isdir(self.out_dir):
            raise TrainerError(f"output.dir: {self.out_dir} exists and is not a folder")
        self.lock = RunLock(self.out_dir)
        try:
            self._lock()   # before reading last.h5: a running run may be replacing it
            self.resume_path = resolve_resume_path(resume, self.out_dir)
            ckpt, self.resume_note = None, None
            if self.resume_path is not None:   # read first: it may keep the run's old policy
                ckpt = read_resume_checkpoint(self.resume_path)
                config, self.resume_note = keep_eval_resize(config, ckpt["config_dict"])
                self.config = config
            self._build(config)
            self.epoch, self.global_step, self.history = 0, 0, []
            # curves.png: epochs drawn, and when (the run's start counts as a drawing: a run
            # that ends within _PLOT_EVERY_SECONDS draws once, at its end)
            self._plotted, self._plotted_at = 0, time.perf_counter()
            self.guard = StepGuard(self.stops, self.world, self._path("last.h5"))
            if self.resume_path is not None:
                self._load_resume(self.resume_path, resume_anyway, ckpt)
            self._check_output_files()
            self.grad_sync.broadcast_initial()   # replicas start bitwise equal (no-op alone)
        except BaseException:
            self.close()
            raise

    def close(self):
        """Release the output folder and the feature cache (idempotent; ``fit`` calls it when
        done)."""
        if getattr(self, "feature_cache", None) is not None:
            self.feature_cache.close()
        self.lock.release()

    def _lock(self):
        """Rank 0 takes the folder's lock if the folder exists (``fit`` creates it first)."""
        def acquire():
            if os.path.isdir(self.out_dir):
                with writing(self.lock.path):
                    self.lock.acquire()
        self._main_then_agree(acquire)

    def _check_output_files(self):
        """Every file the run will replace must be a file (a folder in its place would fail
        only after the earlier files were rewritten)."""
        def check():
            for name in OUTPUT_FILES:
                path = self._path(name)
                if os.path.lexists(path) and not os.path.isfile(path):
                    raise TrainerError(f"output.dir: {path} exists but is not a file: move it "
                                       f"away")
        self._main_then_agree(check)

    def _main_then_agree(self, check):
        """Run ``check`` on rank 0 (the rank that owns the folder); every rank then raises the
        error it raised, so a refused run ends the same way everywhere."""
        error = None
        if self.is_main:
            try:
                check()
            except TrainerError as exc:
                error = exc
        if self.world > 1:
            error = dist.get_comm().bcast(error, root=0)
        if error is not None:
            raise error

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
        # unfreezing, per-layer lrs, early stopping (recipes/): the groups hold every parameter
        # that trains at some point of the run, in the same order on a resume
        self.recipes = Recipes(config, self.model, self.plan)
        self.optimizer = build.build_optimizer(config, self.recipes.param_groups(self.model))
        check_optimizer_coverage(self.optimizer, self.model, self.recipes.pending())
        self.scheduler = build.build_scheduler(config, self.optimizer)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing)
        # Data parallel: each rank's loss is its sum over the global batch count (see train_step).
        self.sum_criterion = nn.CrossEntropyLoss(label_smoothing=config.train.label_smoothing,
                                                 reduction="sum")
        self.val_criterion = nn.CrossEntropyLoss()
        self._build_loaders(config)
        self._build_feature_cache(config)

    def _build_feature_cache(self, config):
        """The frozen-prefix stage (feature_cache.py), or None when this run cannot have one."""
        usable, self.cache_note = feature_cache_status(config, self.model, self.train_set)
        self.feature_cache = None
        if usable:
            t = config.train
            folder = t.feature_cache_dir or os.path.join(self.out_dir, "cache")
            self.feature_cache = FeatureCache(
                self.model, self.plan, self.train_set, config.data.batch_size, config.seed,
                reuse=t.feature_cache == "auto", memory_mb=t.feature_cache_memory_mb,
                folder=os.path.expanduser(folder), epochs=t.epochs, say=self._say,
                name_suffix=f"-rank{dist.rank()}" if self.world > 1 else "")
            self.cache_note = self.feature_cache.note()

    def _build_loaders(self, config):
        seed, batch = config.seed, config.data.batch_size
        rank = dist.rank()
        # The same (seed, epoch) order for any number of ranks: rank r reads every world-th
        # sample, so the ranks' batches together are the one-process global batch. No padding:
        # a wrapped repeat would count twice in the gradient and the metrics.
        train_sampler = DistributedSampler(self.train_set, num_replicas=self.world, rank=rank,
                                           shuffle=True, seed=seed, pad=False)
        val_sampler = DistributedSampler(self.val_set, num_replicas=self.world, rank=rank,
                                         shuffle=False, seed=seed, pad=False)
        self.train_loader = DataLoader(self.train_set, batch_size=batch, sampler=train_sampler,
                                       seed=seed)
        self.val_loader = DataLoader(self.val_set, batch_size=batch, sampler=val_sampler,
                                     seed=seed)

    def _load_resume(self, path, resume_anyway=False, ckpt=None):
        """Check everything in the checkpoint against this run, then restore it (in memory:
        nothing is written here; resume.py)."""
        restore_checkpoint(self, path, resume_anyway, ckpt)

    # ----- the loop --------------------------------------------------------------------------

    def fit(self):
        """Train from ``self.epoch`` to ``train.epochs``; returns the metrics history.

        Signals are only recorded while it runs and acted on between steps and after an
        epoch's files are written (``signals.py``); the output folder's lock is released at
        the end, whatever happens."""
        try:
            # numpy's overflow warnings would only precede the guard's own one-line error
            with self.stops.deferred(), np.errstate(over="ignore", invalid="ignore",
                                                    divide="ignore"):
                if self.epoch >= self.config.train.epochs or self.recipes.stopped:
                    self.print_summary()   # nothing to train: nothing is written either
                    done = self.recipes.early.message() if self.recipes.stopped else \
                        f"already holds {self.epoch} of {self.config.train.epochs} epochs"
                    self._say(f"nothing to do: {self.resume_path} {done}")
                    return self.history
                self._prepare_output()
                self.print_summary()
                self._on_run_start()
                for epoch in range(self.epoch + 1, self.config.train.epochs + 1):
                    self._run_epoch(epoch)
                    self.guard.check(True, epoch)   # a signal during the epoch's writes
                    if self.recipes.stopped:
                        self._say(self.recipes.early.message())
                        break
                self._finish()
        finally:
            self.close()
        return self.history

    def _run_epoch(self, epoch):
        start = time.perf_counter()
        self._on_epoch_start(epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train_loss, train_acc = self.train_epoch(epoch)
        val_loss, val_acc = self.evaluate()
        if not math.isfinite(val_loss):   # the last step's update made the model non-finite
            raise NonFiniteLossError(self.guard.nonfinite_message(
                "validation", epoch, None, None, self.optimizer.param_groups[0]["lr"]))
        record = {"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                  "val_loss": val_loss, "val_acc": val_acc, "lr": lr,
                  "seconds": round(time.perf_counter() - start, 3)}
        self._on_epoch_end(epoch, record)
        build.step_scheduler(self.scheduler, self.config, record)
        self.epoch = epoch
        self._end_epoch(record)



    # ----- output (rank 0 only) --------------------------------------------------------------

    def _path(self, name):
        return os.path.join(self.out_dir, name)

    def _prepare_output(self):
        """Create the folder and take its lock, remove dead writers' temporaries, write the
        resolved config and bring metrics.jsonl in line with the checkpoint (a resumed run
        drops epochs that finished after it)."""
        if self.is_main:
            with writing(self.out_dir):
                os.makedirs(self.out_dir, exist_ok=True)
        self._lock()
        if not self.is_main:
            return
        with writing(self.out_dir):
            remove_stale_temporaries(self.out_dir)
        with writing(self._path("config.yaml")):
            atomic_write_text(self._path("config.yaml"), self.config.to_yaml())
        with writing(self._path("metrics.jsonl")):
            MetricsLog(self._path("metrics.jsonl")).rewrite(self.history)

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
        with writing(self._path("metrics.jsonl")):
            MetricsLog(self._path("metrics.jsonl")).append(record)
        improved = previous_best is None or record["val_acc"] > previous_best
        if improved and self.config.output.save_best:
            self._save(self._path("best.h5"))
            # the same checkpoint: its bytes again rather than a second serialisation (writing
            # a checkpoint's ~200 HDF5 datasets is most of an epoch's writes)
            self._copy(self._path("best.h5"), self._path("last.h5"))
        else:
            self._save(self._path("last.h5"))
        self.guard.saved_epoch = record["epoch"]
        if time.perf_counter() - self._plotted_at >= _PLOT_EVERY_SECONDS:
            self._plot()

    def _plot(self):
        """curves.png from the history; drawing costs about a second, so epochs that end within
        _PLOT_EVERY_SECONDS of the run's start or of the last drawing leave it to a later epoch
        or the run's end."""
        if self.is_main and self.config.output.plot and self._plotted != len(self.history):
            with writing(self._path("curves.png")):
                plot_curves(self.history, self._path("curves.png"), title=self.out_dir)
            self._plotted, self._plotted_at = len(self.history), time.perf_counter()

    def _save(self, path):
        best_acc, best_epoch = self._best()
        extra = {"history": self.history, "best_val_acc": best_acc, "best_epoch": best_epoch,
                 "class_names": self.class_names, "mean": self.mean, "std": self.std,
                 "num_classes": self.num_classes}
        # the eval transform too, so predict and evaluate preprocess exactly as validation did
        attrs = {"arch": "resnet18", "num_classes": self.num_classes,
                 **transform_attrs(self.config, self.class_names, self.mean, self.std)}
        with writing(path):
            save_checkpoint(path, model=self.model, optimizer=self.optimizer,
                            scheduler=self.scheduler, epoch=self.epoch,
                            global_step=self.global_step, config=self._config_yaml(),
                            extra=extra, attrs=attrs)

    def _config_yaml(self):
        """The config as YAML, rendered once: it is fixed for the run, and rendering it was a
        sixth of each checkpoint write's CPU time."""
        if getattr(self, "_config_yaml_text", None) is None:
            self._config_yaml_text = self.config.to_yaml()
        return self._config_yaml_text

    def _copy(self, source, path):
        """``path`` atomically becomes a copy of the checkpoint ``source`` just written (a hard
        link where the filesystem has them: no second 3 MB write and fsync per epoch)."""
        with writing(path):
            atomic_copy(source, path)

    def _finish(self):
        dist.barrier()
        if not self.is_main:
            return
        self._plot()
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
        """What will be trained, in a few lines (``summary.py``; printed before epoch 1)."""
        return summary_lines(self)

    def print_summary(self):
        for line in self.summary_lines():
            self._say(line)

