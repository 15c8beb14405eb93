"""Train a small model for a few SGD steps on a fixed global batch per step, alone or as one
rank of ``mpiexec -n 2`` (each rank takes its contiguous half of every global batch).

Checks after every step that all ranks hold bitwise identical parameters and buffers, and writes
the final state dict (rank 0) to OUT.npz for the test to compare a 1-rank and a 2-rank run.
Replicas are deliberately initialised differently per rank: GradientSync.broadcast_initial must
make them equal. Usage: worker_train.py OUT.npz KIND STEPS
"""
import hashlib
import sys

import numpy as np

import minitorch as mt
import minitorch.distributed as dist
from minitorch import nn, optim
from minitorch.distributed.sync_batchnorm import convert_sync_batchnorm

GLOBAL_BATCH = 16


def build(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, 4))
    if kind == "conv":
        return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(96, 4))
    # conv + BatchNorm in training mode; "frozen" freezes the conv/BN stem (BN in eval mode).
    model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6),
                          nn.ReLU(), nn.Conv2d(6, 5, 3, padding=1), nn.BatchNorm2d(5),
                          nn.ReLU(), nn.Flatten(), nn.Linear(80, 4))
    if kind == "frozen":
        for m in (model[0], model[1]):
            m.requires_grad_(False)
    return model


def batch(step):
    rng = np.random.default_rng(1000 + step)
    x = rng.standard_normal((GLOBAL_BATCH, 3, 4, 4)).astype(np.float32)
    y = rng.integers(0, 4, GLOBAL_BATCH)
    return x, y


def digest(model):
    h = hashlib.sha1()
    for name, t in list(model.state_dict().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(t.detach().numpy()).tobytes())
    return h.hexdigest()


def train(kind, steps):
    world, rank = dist.init(), dist.rank()
    mt.manual_seed(100 + rank)
    model = build(kind)
    if world > 1:
        convert_sync_batchnorm(model)
    sync = dist.GradientSync(model)
    sync.broadcast_initial()
    initial = {k: t.detach().numpy().copy() for k, t in model.state_dict().items()}
    model.train()
    if kind == "frozen":
        model[1].eval()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    shard = GLOBAL_BATCH // world
    for step in range(steps):
        x, y = batch(step)
        x, y = x[rank * shard:(rank + 1) * shard], y[rank * shard:(rank + 1) * shard]
        opt.zero_grad()
        loss = loss_fn(model(mt.tensor(x)), mt.tensor(y))
        loss.backward()
        sync.sync()
        opt.step()
        digests = dist.get_comm().allgather(digest(model)) if world > 1 else [digest(model)]
        assert len(set(digests)) == 1, f"ranks diverged after step {step}: {digests}"
    return model, initial


def main(out, kind, steps):
    model, initial = train(kind, int(steps))
    if dist.is_main_process():
        final = {k: t.detach().numpy() for k, t in model.state_dict().items()}
        np.savez(out, **final, **{"initial." + k: v for k, v in initial.items()})
    print(f"OK {dist.rank()}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
