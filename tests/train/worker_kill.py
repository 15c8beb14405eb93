"""``minitorch-finetune`` that SIGKILLs itself at a chosen moment, for the resume tests.

    worker_kill.py POINT K CONFIG [--set ...] [--resume ...]

POINT is where to die, on its K-th occurrence (1-based):
  step      inside a training step, between backward and the optimizer step (the sync seam)
  metrics   right after an epoch's metrics.jsonl line was written, before any checkpoint
  best      right after best.h5 was written, before last.h5
  last      in the middle of writing last.h5 (its temporary file half done)
"""
import os
import signal
import sys

from minitorch.io import atomic
from minitorch.train import trainer as trainer_module
from minitorch.train.metrics import MetricsLog


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _after(owner, name, should_die):
    original = getattr(owner, name)

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        if should_die(*args, **kwargs):
            _die()
        return result

    setattr(owner, name, wrapped)


def _counter(k):
    calls = [0]

    def hit(*_, **__):
        calls[0] += 1
        return calls[0] == k
    return hit


def _install(point, k):
    if point == "step":
        _after(trainer_module.Trainer, "sync_gradients", _counter(k))
    elif point == "metrics":
        _after(MetricsLog, "append", _counter(k))
    elif point in ("best", "last"):
        count = _counter(k)
        if point == "best":
            _after(trainer_module, "save_checkpoint",
                   lambda path, **_: str(path).endswith("best.h5") and count())
        else:
            original = atomic._commit

            def maybe_die_then_commit(temp, path):
                # Called on the finished temporary file (written, or a hard link to best.h5),
                # just before os.replace.
                if ".last.h5.tmp" in os.path.basename(temp) and count():
                    _die()
                return original(temp, path)
            atomic._commit = maybe_die_then_commit
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def main(argv):
    _install(argv[0], int(argv[1]))
    from minitorch.train.cli import finetune_main
    return finetune_main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
