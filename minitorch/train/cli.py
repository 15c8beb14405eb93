"""Command-line entry points: minitorch-finetune, -evaluate, -predict, -export, -warmup.

    minitorch-finetune CONFIG.yaml [--set key.path=value ...] [--resume auto|PATH]
                       [--resume-anyway] [--find-lr]
    minitorch-evaluate CHECKPOINT [--config CONFIG.yaml] [--set key.path=value ...]
    minitorch-evaluate FILE --data FOLDER_OR_NPZ [--out DIR] [--batch-size N]
    minitorch-predict FILE PATH... [--topk K] [--csv F | --json F] [--tta flip]
                      [--batch-size N] [--skip-bad]
    minitorch-export FILE OUT.onnx|OUT.safetensors|OUT.h5
    minitorch-warmup

A user error (bad config, missing or corrupt file, mismatched weights, unreadable data) prints
``error: <one line>`` on stderr and returns exit code 2, without a traceback; under MPI every rank
agrees on the exit and the line is printed once. A write the environment refuses (read-only or
full disk, file-size limit, permission) is such an error too. SIGINT and SIGTERM end a run with
exit code 130 and 143 and one ``interrupted`` line. Each ``*_main(argv)`` returns the exit code,
so tests can call it in-process.
"""
import argparse
import contextlib
import errno
import os
import re
import signal
import sys
import time

__all__ = ["finetune_main", "evaluate_main", "predict_main", "export_main", "warmup_main"]

EXIT_USER_ERROR = 2

# OSErrors that mean "the environment refused a write", not a bug: one line, exit code 2.
_ENVIRONMENT_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EFBIG, errno.EACCES, errno.EPERM,
                       errno.EDQUOT, errno.EIO}


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error as our one ``error:`` line, exit code 2."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _fail(message):
    """Print ``error: message`` once (rank 0 under MPI) and return the user-error code."""
    from minitorch import distributed as dist
    line = f"error: {message}"
    try:
        world = dist.world_size()   # joins the MPI job if this process was launched in one
    except dist.DistributedError:
        world = 1                   # mpi4py missing under mpiexec: that is the error shown
    if world > 1:
        dist.exit_with_error(line, EXIT_USER_ERROR)   # every rank exits; never returns
    print(line, file=sys.stderr, flush=True)
    return EXIT_USER_ERROR


def _run(main, argv):
    """Call ``main(argv)``, turning user errors into ``error:`` lines and exit code 2."""
    from .errors import one_line, user_error_types
    try:
        # Join the MPI job first (a no-op alone), so that under mpiexec even a config error is
        # agreed by every rank and printed once.
        from minitorch import distributed as dist
        dist.init()
        return main(argv)
    except BrokenPipeError:
        return _reader_gone()
    except _UsageError as exc:
        return _fail(str(exc))
    except user_error_types() as exc:
        return _fail(one_line(exc))
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT_ERRNOS:
            raise
        where = f" {_destination(exc.filename)}" if exc.filename else ""
        return _fail(f"cannot write{where}: {os.strerror(exc.errno)}")
    except KeyboardInterrupt as exc:
        return _interrupted(exc)


def _reader_gone():
    """The reader of stdout went away (``minitorch-predict ... | head``): stop quietly, as a
    shell tool killed by SIGPIPE would (128 + 13), with stdout pointed at /dev/null so that
    the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def _destination(filename):
    """The file a temporary of an atomic write (``.NAME.tmp-PID-HEX``) was going to become."""
    folder, name = os.path.split(os.fspath(filename))
    match = re.fullmatch(r"\.(.+)\.tmp-\d+-[0-9a-f]+", name)
    return os.path.join(folder, match.group(1)) if match else os.fspath(filename)


def _interrupted(exc):
    """One ``interrupted`` line (rank 0) and 128 + the signal's number (130 for Ctrl-C)."""
    from minitorch import distributed as dist
    from .signals import RunInterrupted
    if isinstance(exc, RunInterrupted):
        code, text = exc.exit_code, f"interrupted by {exc.signal_name}"
    else:
        code, text = 130, "interrupted"
    detail = str(exc)
    if dist.is_main_process():
        print(f"{text}: {detail}" if detail else text, file=sys.stderr, flush=True)
    return code


def _finetune_parser():
    p = _ArgumentParser(prog="minitorch-finetune",
                        description="Finetune a ResNet-18 from a YAML config.")
    p.add_argument("config", help="YAML config file")
    _add_overrides(p, help="override a config key (value parsed as YAML)")
    p.add_argument("--resume", metavar="auto|PATH", default=None,
                   help="continue from OUTPUT_DIR/last.h5 (auto: if it exists) or PATH")
    p.add_argument("--resume-anyway", action="store_true",
                   help="resume even if the checkpoint was trained on other data (seed, "
                        "dataset, root, classes, image size or split differ from the config)")
    p.add_argument("--find-lr", action="store_true",
                   help="instead of training: sweep the lr (train.find_lr), write "
                        "OUTPUT_DIR/find_lr.png and print a suggestion; the model is untouched")
    return p


def _finetune(argv):
    args = _finetune_parser().parse_args(argv)
    if args.find_lr and (args.resume or args.resume_anyway):
        raise _UsageError("minitorch-finetune: --find-lr sweeps from the config's starting "
                          "point; it cannot be combined with --resume (drop one of them)")
    from minitorch import distributed as dist
    dist.init()   # first: under mpiexec it also sets each rank's share of the cores
    from .config import load_config
    from .signals import StopRequests, ignore_file_size_signal
    from .trainer import Trainer
    ignore_file_size_signal()   # a file-size limit becomes EFBIG, then one error line
    with StopRequests() as stops:
        config = load_config(args.config, args.overrides)
        with _naming_config_file(args.config):
            trainer = Trainer(config, resume=args.resume, resume_anyway=args.resume_anyway,
                              stops=stops)
        # after every input check: an empty numba cache is said and compiled in 2 processes,
        # only the kernels this model's training reaches (a frozen backbone needs no backward)
        from minitorch import runtime
        runtime.compile_if_cold(processes=2 if dist.world_size() == 1 else 1,
                                announce=dist.is_main_process(), model=trainer.model,
                                image_size=config.data.image_size,
                                feature_cache=trainer.feature_cache is not None)
        if args.find_lr:
            from .recipes.lr_finder import find_lr
            try:
                find_lr(trainer)
            finally:
                trainer.close()
            return 0
        trainer.fit()
    return 0


@contextlib.contextmanager
def _naming_config_file(path):
    """A setup error about a config key (``model.freeze: ...``, ``train.unfreeze[0].modules:
    ...``) names the config file first, as the config's own checks do."""
    from dataclasses import fields
    from .config import Config
    from .errors import user_error_types
    try:
        yield
    except user_error_types() as exc:
        message = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else ""
        section = re.match(r"(\w+)[.\[][^:]*: ", message)
        if section and section.group(1) in {f.name for f in fields(Config)}:
            exc.args = (f"{os.fspath(path)}: {message}",)
        raise


def finetune_main(argv=None):
    """``minitorch-finetune``: returns the exit code (0, or 2 for a user error)."""
    return _run(_finetune, sys.argv[1:] if argv is None else argv)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: must be an integer >= 1")
    return value


# Arguments that mean the same in several tools, declared once.
def _add_overrides(p, help="override a config key"):
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="KEY=VALUE", help=help)


def _add_batch_size(p):
    p.add_argument("--batch-size", type=_positive_int, default=32, help="images per forward")


def _add_classifier_file(p):
    p.add_argument("file", help="a checkpoint (best.h5), weights file or .safetensors file")


def _evaluate_parser():
    p = _ArgumentParser(prog="minitorch-evaluate",
                        description="Evaluate a checkpoint on its config's validation split, or "
                                    "a classifier file on a labelled folder or npz (--data).")
    p.add_argument("checkpoint", help="a checkpoint written by minitorch-finetune (best.h5), or "
                                      "with --data any classifier file")
    p.add_argument("--config", default=None,
                   help="YAML config (default: the one stored in the checkpoint)")
    _add_overrides(p)
    p.add_argument("--data", default=None, metavar="PATH",
                   help="score this whole labelled folder (root/<class>/<image>) or .npz, "
                        "no split")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="with --data: where the confusion PNG and the misclassified CSV go "
                        "(default: beside FILE)")
    _add_batch_size(p)
    return p


def _evaluate(argv):
    args = _evaluate_parser().parse_args(argv)
    from minitorch import runtime
    runtime.configure()
    if args.data is not None:
        if args.config is not None or args.overrides:
            raise _UsageError("minitorch-evaluate: --data evaluates with the file's recorded "
                              "transform; --config/--set apply only without --data")
        from .evaluate import evaluate_data
        return evaluate_data(args.checkpoint, args.data, out_dir=args.out,
                             batch_size=args.batch_size)
    from .evaluate import evaluate_checkpoint
    evaluate_checkpoint(args.checkpoint, args.config, args.overrides)
    return 0


def evaluate_main(argv=None):
    """``minitorch-evaluate``: accuracy, loss and confusion matrix of a checkpoint."""
    return _run(_evaluate, sys.argv[1:] if argv is None else argv)


def _predict_parser():
    p = _ArgumentParser(prog="minitorch-predict",
                        description="Classify images with a finetuned model (its own eval "
                                    "transform and class names).")
    _add_classifier_file(p)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="image files, folders (searched recursively) or .txt list files")
    p.add_argument("--topk", type=_positive_int, default=5,
                   help="classes shown per image (default 5, at most the number of classes)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--csv", metavar="F", default=None, help="write the results as CSV")
    where.add_argument("--json", metavar="F", default=None, help="write the results as JSON")
    p.add_argument("--tta", choices=("flip",), default=None,
                   help="flip: average each image's and its mirror image's probabilities")
    _add_batch_size(p)
    p.add_argument("--skip-bad", action="store_true",
                   help="images that do not decode are skipped with a warning (exit code 0)")
    return p


def _predict(argv):
    args = _predict_parser().parse_args(argv)
    from minitorch import runtime
    runtime.configure()
    from .predict import run_predict
    return run_predict(args)


def predict_main(argv=None):
    """``minitorch-predict``: top-k classes of images, printed or written as CSV/JSON."""
    return _run(_predict, sys.argv[1:] if argv is None else argv)


def _export_parser():
    p = _ArgumentParser(prog="minitorch-export",
                        description="Write a classifier file as ONNX (BatchNorm folded, dynamic "
                                    "batch), safetensors or a minitorch weights file.")
    _add_classifier_file(p)
    p.add_argument("output", help="OUT.onnx, OUT.safetensors or OUT.h5 (chosen by the suffix)")
    return p


def _export(argv):
    args = _export_parser().parse_args(argv)
    from minitorch import runtime
    runtime.configure()
    from .export import export_file
    print(export_file(args.file, args.output), flush=True)
    return 0


def export_main(argv=None):
    """``minitorch-export``: a classifier file to ONNX, safetensors or HDF5 weights."""
    return _run(_export, sys.argv[1:] if argv is None else argv)


def _warmup(argv):
    _ArgumentParser(prog="minitorch-warmup",
                    description="Compile minitorch's numba kernels ahead of time.").parse_args(argv)
    start = time.perf_counter()
    from minitorch import runtime
    runtime.configure()
    # numba compiles one function at a time per process: on an empty cache, compiling the
    # training kernels in two processes at once roughly halves the wait (a warm cache starts
    # no second process and only loads).
    runtime.warmup(processes=2)
    compiled = time.perf_counter()
    _warmup_step()
    done = time.perf_counter()
    cache = os.environ.get("NUMBA_CACHE_DIR", "the numba cache next to each kernel module")
    # The first run on a machine compiles and caches; later runs only load the cache.
    print(f"warmup: numba kernels ready in {done - start:.1f} s (kernels {compiled - start:.1f} s "
          f"in 2 processes, model step {done - compiled:.1f} s; cache: {cache})")
    return 0


def _warmup_step():
    """One tiny training step and an eval forward: compiles whatever ``kernels.warmup`` does not
    list (the no-grad max pool, both SGD kernels, helpers specialised per call site)."""
    import minitorch as mt
    from minitorch import nn, optim
    from models import resnet18
    mt.manual_seed(0)
    # A tiny model that still runs every kernel a finetuning step uses: conv, BN, ReLU,
    # max-pool (imagenet stem), pooling, linear, cross-entropy, SGD with momentum (width 4
    # still has parameters on both sides of SGD's serial/parallel size threshold), eval mode.
    model = resnet18(num_classes=2, variant="imagenet", width=4)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = mt.randn(2, 3, 32, 32), mt.tensor([0, 1])
    loss = nn.CrossEntropyLoss()(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    with mt.no_grad():
        model(x)


def warmup_main(argv=None):
    """``minitorch-warmup``: compile the kernels in parallel, then run one tiny training step."""
    return _run(_warmup, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(finetune_main())
