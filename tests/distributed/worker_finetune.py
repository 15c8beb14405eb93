"""``minitorch-finetune`` for the tests, optionally with a rank that dies mid-run.

    worker_finetune.py [--check-replicas] [--kill-rank R --kill-at-sync K] CONFIG [--set ...]

With ``--kill-*``, rank R SIGKILLs itself when the trainer calls ``GradientSync.sync`` for the
K-th time (1-based): a deterministic "machine died in the middle of a step" for the tests.
With ``--check-replicas``, every sync first checks that all ranks hold bitwise identical
parameters and buffers (the previous step's result, plus this step's BatchNorm statistics),
and the process exits with an error if they do not.
"""
import hashlib
import os
import signal
import sys

import minitorch.distributed as dist
from minitorch.distributed.parallel import GradientSync


def _install_kill(rank, at):
    original = GradientSync.sync
    calls = [0]

    def sync(self, *args, **kwargs):
        calls[0] += 1
        if dist.rank() == rank and calls[0] == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)

    GradientSync.sync = sync


def _digest(model):
    import numpy as np
    h = hashlib.sha1()
    for name, t in model.state_dict().items():
        h.update(name.encode() + np.ascontiguousarray(t.detach().numpy()).tobytes())
    return h.hexdigest()


def _install_replica_check():
    original = GradientSync.sync

    def sync(self, *args, **kwargs):
        digests = dist.get_comm().allgather(_digest(self.model))
        if len(set(digests)) != 1:
            raise AssertionError(f"replicas differ before a gradient sync: {digests}")
        return original(self, *args, **kwargs)

    GradientSync.sync = sync


def main(argv):
    if argv[:1] == ["--check-replicas"]:
        _install_replica_check()
        argv = argv[1:]
    if argv[:1] == ["--kill-rank"]:
        _install_kill(int(argv[1]), int(argv[3]))
        argv = argv[4:]
    from minitorch.train.cli import finetune_main
    return finetune_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
