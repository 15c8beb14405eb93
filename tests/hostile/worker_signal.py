"""``minitorch-finetune`` that sends itself a signal at a chosen moment.

    worker_signal.py SIGNAL POINT K CONFIG [--set ...] [--resume ...]

POINT, on its K-th occurrence: ``step`` (between backward and the optimizer step) or ``save``
(inside the write of last.h5, its temporary file complete but not yet renamed).
"""
import os
import signal
import sys

from minitorch.io import atomic
from minitorch.train import trainer as trainer_module


def _install(signum, point, k):
    calls = [0]

    def hit():
        calls[0] += 1
        if calls[0] == k:
            os.kill(os.getpid(), signum)

    if point == "step":
        original = trainer_module.Trainer.sync_gradients

        def sync_gradients(self, params):
            hit()
            return original(self, params)
        trainer_module.Trainer.sync_gradients = sync_gradients
    elif point == "save":
        original = atomic._commit

        def commit(temp, path):
            # the finished temporary of last.h5 (written, or a hard link), just before the rename
            if ".last.h5.tmp" in os.path.basename(temp):
                hit()
            return original(temp, path)
        atomic._commit = commit
    else:
        raise SystemExit(f"unknown point {point!r}")


def main(argv):
    _install(getattr(signal, argv[0]), argv[1], int(argv[2]))
    from minitorch.train.cli import finetune_main
    return finetune_main(argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
