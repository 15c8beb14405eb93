"""Data-parallel step timing: compute vs all-reduce, for 1 and N processes, and a scaling model.

    python scripts/bench_distributed.py            # small and full ResNet-18, 1 and 2 procs
    python scripts/bench_distributed.py --models small --procs 1 2 4 --steps 5
    python scripts/bench_distributed.py --model-only --compute 0.45 --params 11689512

Each configuration runs as its own ``mpiexec -n P`` job (``--worker`` mode); every rank trains on
random data with its own per-rank batch (weak scaling: the global batch is batch x P) and times,
per step: compute (zero_grad, forward, loss, backward), wait (a barrier: load imbalance between
ranks), all-reduce (``GradientSync.sync``: the bucketed gradient mean) and the optimizer step.
``scripts/benchmark.py --distributed`` calls ``run`` and ``format_results`` from here.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

__all__ = ["MODELS", "run", "format_results", "ring_allreduce_seconds", "scaling_rows",
           "format_scaling"]

# Per-rank workloads: the small ResNet-18 of the shipped digits configs and the full one.
MODELS = {
    "small": dict(variant="small", width=16, num_classes=10, image_size=32, batch=64),
    "full": dict(variant="imagenet", width=64, num_classes=1000, image_size=224, batch=16),
}
MACHINES = (2, 4, 8, 16, 32, 64)
BANDWIDTHS_GBIT = (10, 100)
LATENCY_S = 20e-6  # per message hop on a commodity Ethernet/TCP cluster link


# ----------------------------------------------------------------------------- worker (per rank)
def _build(spec, freeze):
    import minitorch as mt
    from minitorch import nn, optim
    from models import resnet18
    mt.manual_seed(0)
    model = resnet18(num_classes=spec["num_classes"], variant=spec["variant"], width=spec["width"])
    if freeze == "backbone":
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("fc."))
        model.eval()  # frozen BatchNorm stays in eval mode; fc has none
    else:
        model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    return model, optim.SGD(params, lr=0.01, momentum=0.9), nn.CrossEntropyLoss()


def _time_steps(spec, freeze, steps):
    import numpy as np
    import minitorch as mt
    import minitorch.distributed as dist
    model, opt, loss_fn = _build(spec, freeze)
    if dist.world_size() > 1:  # as the trainer does: BatchNorm statistics over the global batch
        dist.convert_sync_batchnorm(model)
    sync = dist.GradientSync(model)
    sync.broadcast_initial()
    rng = np.random.default_rng(dist.rank())
    size, batch = spec["image_size"], spec["batch"]
    x = mt.tensor(rng.standard_normal((batch, 3, size, size)).astype(np.float32))
    y = mt.tensor(rng.integers(0, spec["num_classes"], batch))
    rows = []
    for step in range(steps + 1):  # step 0 warms up (numba compilation, allocations)
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        t1 = time.perf_counter()
        dist.barrier()
        t2 = time.perf_counter()
        sync.sync()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        if step:
            rows.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3))
    return np.median(np.array(rows), axis=0)


def worker(model_name, freeze, steps):
    """Run in every rank of an ``mpiexec`` job; rank 0 prints one JSON line."""
    import minitorch.distributed as dist
    world = dist.init()
    spec = MODELS[model_name]
    compute, wait, allreduce, step = _time_steps(spec, freeze, steps)
    totals = dist.all_reduce_scalars({"compute": compute, "wait": wait, "allreduce": allreduce,
                                      "step": step}, op="max")
    if dist.is_main_process():
        from models import resnet18
        model = resnet18(num_classes=spec["num_classes"], variant=spec["variant"],
                         width=spec["width"])
        n_params = sum(p.numel() for n, p in model.named_parameters()
                       if freeze == "none" or n.startswith("fc."))
        # BatchNorm layers in training mode exchange statistics (3 small all-reduces each:
        # sums and count, squared deviations; backward's two gradient sums).
        bn_layers = sum(type(m).__name__.endswith("BatchNorm2d") or
                        type(m).__name__ == "SyncBatchNorm" for m in model.modules())
        total = sum(totals.values())
        import numba
        print(json.dumps(dict(model=model_name, freeze=freeze, procs=world, batch=spec["batch"],
                              threads=numba.get_num_threads(),
                              image_size=spec["image_size"], synced_params=n_params,
                              synced_mb=n_params * 4 / 1e6,
                              sync_bn_layers=bn_layers if freeze == "none" else 0,
                              **totals, total=total,
                              images_per_s=world * spec["batch"] / total)), flush=True)


# ----------------------------------------------------------------------------- driver
def _mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def run(models=("small", "full"), procs=(1, 2), freezes=("none", "backbone"), steps=3,
        timeout=1800):
    """Launch one job per (model, freeze, procs) and return their result dicts."""
    results = []
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for name in models:
        for freeze in freezes:
            for p in procs:
                cmd = [_mpiexec(), "-n", str(p), sys.executable, str(Path(__file__).resolve()),
                       "--worker", "--models", name, "--freeze", freeze, "--steps", str(steps)]
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO,
                                      timeout=timeout)
                if proc.returncode != 0:
                    raise RuntimeError(f"benchmark job {name}/{freeze}/{p} failed:\n"
                                       f"{proc.stderr[-2000:]}")
                results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


def format_results(results):
    """A markdown table of measured per-step times (seconds, max over ranks)."""
    lines = ["| model | trained | procs | threads/rank | batch/rank | compute s | wait s | "
             "all-reduce s | optimizer s | img/s | all-reduce MB |", "|" + "---|" * 11]
    for r in results:
        lines.append(f"| {r['model']} | {'all' if r['freeze'] == 'none' else 'fc only'} | "
                     f"{r['procs']} | {r['threads']} | {r['batch']} | {r['compute']:.3f} | "
                     f"{r['wait']:.3f} | "
                     f"{r['allreduce']:.4f} | {r['step']:.4f} | {r['images_per_s']:.1f} | "
                     f"{r['synced_mb']:.2f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- scaling model
def ring_allreduce_seconds(nbytes, machines, gbit, latency=LATENCY_S):
    """Ring all-reduce: 2(p-1) steps, each moving nbytes/p per link, each paying a latency."""
    p = machines
    return 2 * (p - 1) / p * nbytes / (gbit * 1e9 / 8) + 2 * (p - 1) * latency


def scaling_rows(compute_s, n_params, batch, machines=MACHINES, bandwidths=BANDWIDTHS_GBIT,
                 extra_latency_s=0.0):
    """Efficiency per machine count, compute / (compute + communication), the sync running after
    backward (no overlap). Weak scaling keeps ``batch`` per machine (global batch grows with p);
    strong scaling splits the 1-machine batch, so per-machine compute shrinks as 1/p (None once
    a machine would get less than one sample). ``extra_latency_s`` adds small latency-bound
    messages per step per log2(p) rounds (SyncBatchNorm's statistics)."""
    import math
    rows = []
    for p in machines:
        row = {"machines": p}
        for gbit in bandwidths:
            t = ring_allreduce_seconds(4 * n_params, p, gbit) + extra_latency_s * math.log2(p)
            strong = compute_s / p
            row[gbit] = (t, compute_s / (compute_s + t),
                         strong / (strong + t) if p <= batch else None)
        rows.append(row)
    return rows


def format_scaling(compute_s, n_params, batch, title, extra_latency_s=0.0):
    """A markdown table of the scaling model (see ``scaling_rows``)."""
    head = " | ".join(f"all-reduce @{g} Gb/s | weak eff. | strong eff." for g in BANDWIDTHS_GBIT)
    lines = [f"{title}: {n_params:,} synced parameters ({4 * n_params / 1e6:.2f} MB), "
             f"compute {compute_s:.3f} s/step at batch {batch}", "",
             f"| machines | {head} |", "|---|" + "---|---|---|" * len(BANDWIDTHS_GBIT)]
    for row in scaling_rows(compute_s, n_params, batch, extra_latency_s=extra_latency_s):
        cells = []
        for g in BANDWIDTHS_GBIT:
            t, weak, strong = row[g]
            cells.append(f"{t * 1e3:.2f} ms | {weak:.1%} | "
                         + ("-" if strong is None else f"{strong:.1%}"))
        lines.append(f"| {row['machines']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["small", "full"], choices=sorted(MODELS))
    ap.add_argument("--procs", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--freeze", nargs="+", default=["none", "backbone"],
                    choices=["none", "backbone"])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--worker", action="store_true", help="internal: run as one rank")
    ap.add_argument("--model-only", action="store_true", help="print the scaling model only")
    ap.add_argument("--compute", type=float, help="compute seconds per step (--model-only)")
    ap.add_argument("--params", type=int, help="synced parameter count (--model-only)")
    ap.add_argument("--batch", type=int, default=64, help="batch per machine (--model-only)")
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.models[0], args.freeze[0], args.steps)
    if args.model_only:
        print(format_scaling(args.compute, args.params, args.batch, "model"))
        return
    results = run(args.models, args.procs, args.freeze, args.steps)
    print(format_results(results))
    for r in results:
        if r["procs"] == 1:
            print()
            print(format_scaling(r["compute"], r["synced_params"], r["batch"],
                                 f"{r['model']} ResNet-18, "
                                 f"{'full finetune' if r['freeze'] == 'none' else 'fc only'}",
                                 extra_latency_s=r["sync_bn_layers"] * 3 * LATENCY_S))


if __name__ == "__main__":
    main()
