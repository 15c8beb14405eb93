"""ResNet-18 training speed and memory, minitorch against PyTorch, side by side in one run.

    python scripts/benchmark.py                       # workloads a, b, c, start times; ~10 min
    python scripts/benchmark.py --workloads c --repeats 9 --json bench.json
    python scripts/benchmark.py --quick --no-torch    # width 8, batch 2, 1 repeat: a smoke run
    python scripts/benchmark.py --profile --workloads a   # where minitorch's step time goes
    python scripts/benchmark.py --distributed         # also scripts/bench_distributed.py (MPI)

Workloads (the same architecture and identical weights in both frameworks, random data):
  a  full training step (forward, cross-entropy, backward, SGD momentum), batch 16 at 224x224
  b  frozen backbone: only ``fc`` trainable, BatchNorm in eval mode, batch 16 at 224x224
  c  full training step, ``variant="small"`` (width 64), batch 64 at 32x32

Each framework runs each workload in its own worker process, so peak memory (VmHWM) is its own,
and the driver alternates single steps between the two workers (who goes first alternates too),
so machine noise hits both alike; times are medians over ``--repeats`` steps after warm-up.
Both use 2 threads (numba, OpenBLAS via threadpoolctl, torch.set_num_threads). Start times: a
fresh process doing import, build and first step of workload c, with an empty numba cache
(cold), after ``minitorch.kernels.warmup(2)`` into an empty cache, and with the cache filled.
"""
import os

# Read by OpenBLAS when numpy loads it: idle BLAS threads go to sleep at once instead of
# spinning, which numba's kernels (and, on a shared machine, everyone) need (see
# minitorch.kernels). Measured here while other jobs loaded the machine: a small sgemm took
# 12 ms instead of 0.14 ms without it (on an idle machine it makes no difference).
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
THREADS = 2
WORKLOADS = {
    "a": dict(title="train step", variant="imagenet", width=64,
              num_classes=1000, batch=16, size=224, frozen=False),
    "b": dict(title="frozen backbone (fc only, eval BN)", variant="imagenet",
              width=64, num_classes=1000, batch=16, size=224, frozen=True),
    "c": dict(title="train step, small variant", variant="small", width=64,
              num_classes=10, batch=64, size=32, frozen=False),
}
QUICK = dict(width=8, batch=2)
PREFIX = "@@"  # marks the workers' protocol lines on stdout (libraries may print other lines)

__all__ = ["WORKLOADS", "run_workload", "start_seconds", "machine_info", "format_table", "main"]


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MiB (ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- worker side
def _data(spec):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((spec["batch"], 3, spec["size"], spec["size"]), dtype=np.float32)
    return x, rng.integers(0, spec["num_classes"], spec["batch"])


def _limit_blas_threads():
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=THREADS)  # for the life of the process


def minitorch_step(spec, weights=None):
    """Build workload ``spec`` in minitorch; return a function doing one step (returns the loss).
    ``weights``: an .npz state dict to load, or to write when it does not exist yet."""
    import numba
    import minitorch as mt
    from minitorch import nn, optim
    sys.path.insert(0, str(REPO))
    from models import resnet18
    numba.set_num_threads(min(THREADS, numba.config.NUMBA_NUM_THREADS))
    _limit_blas_threads()
    mt.manual_seed(0)
    model = resnet18(num_classes=spec["num_classes"], variant=spec["variant"], width=spec["width"])
    if weights and os.path.exists(weights):
        with np.load(weights) as f:
            model.load_state_dict({k: mt.tensor(f[k]) for k in f.files})
    elif weights:
        np.savez(weights, **{k: v.numpy() for k, v in model.state_dict().items()})
    return _make_step(mt, nn.functional.cross_entropy, optim.SGD, model, spec)


def torch_step(spec, weights):
    """The same as ``minitorch_step`` in PyTorch, loading the weights minitorch wrote (if any)."""
    import torch
    sys.path.insert(0, str(SCRIPTS))
    from fixtures_resnet import torch_resnet18
    torch.set_num_threads(THREADS)
    _limit_blas_threads()
    model = torch_resnet18(torch, spec["num_classes"], spec["variant"], spec["width"])
    if weights:
        with np.load(weights) as f:
            model.load_state_dict({k: torch.from_numpy(f[k]) for k in f.files})
    return _make_step(torch, torch.nn.functional.cross_entropy, torch.optim.SGD, model, spec)


def _make_step(lib, cross_entropy, sgd, model, spec):
    """One training step, written once for both libraries (they share these names)."""
    if spec["frozen"]:
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("fc."))
        model.eval()  # the frozen backbone's BatchNorm uses running statistics
    else:
        model.train()
    opt = sgd([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    x, y = _data(spec)
    x, y = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    step.model = model  # for tests and inspection
    return step


def _say(**msg):
    print(PREFIX + json.dumps(msg), flush=True)


def worker(framework, spec, weights):
    """Serve ``step`` and ``quit`` commands on stdin; answers are ``@@{json}`` lines."""
    build = minitorch_step if framework == "minitorch" else torch_step
    step = build(spec, weights)
    _say(rss_mb=_status_mb("VmRSS"))
    for line in sys.stdin:
        if line.strip() == "step":
            t0 = time.perf_counter()
            loss = step()
            _say(ms=(time.perf_counter() - t0) * 1e3, loss=loss)
        else:
            _say(peak_rss_mb=_status_mb("VmHWM"))
            return


def first_step(framework, spec, prewarm):
    """Import, build, a first and a second step in this fresh process (the start-time run);
    the second step's time tells compilation and first-touch costs from the step's own."""
    t0 = time.perf_counter()
    if prewarm:
        import minitorch.kernels
        minitorch.kernels.warmup(processes=THREADS)
    t1 = time.perf_counter()
    step = (torch_step if framework == "torch" else minitorch_step)(spec, None)
    t2 = time.perf_counter()
    step()
    t3 = time.perf_counter()
    _say(prewarm_s=t1 - t0, import_build_s=t2 - t1, first_step_s=t3 - t2)
    t3 = time.perf_counter()
    step()
    _say(second_step_s=time.perf_counter() - t3)


# ----------------------------------------------------------------------------- driver side
class Worker:
    """A worker process for one framework and workload, driven line by line."""

    def __init__(self, framework, spec, weights):
        self.framework = framework
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", framework,
               "--spec", json.dumps(spec), "--weights", weights]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=REPO)
        self.ready = self._read()

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith(PREFIX):
                return json.loads(line[len(PREFIX):])
        raise RuntimeError(f"the {self.framework} worker exited with code {self.proc.wait()} "
                           "(its traceback is above)")

    def close(self):
        answer = self.ask("quit")
        self.proc.wait(timeout=60)
        return answer["peak_rss_mb"]


def run_workload(spec, repeats, warmup, use_torch):
    """Alternate single steps of the two workers; return per-framework medians and peaks."""
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "weights.npz")
        workers = [Worker("minitorch", spec, weights)]  # writes the weights torch loads
        if use_torch:
            workers.append(Worker("torch", spec, weights))
        first = {w.framework: w.ask("step")["loss"] for w in workers}
        for _ in range(warmup - 1):
            for w in workers:
                w.ask("step")
        times = {w.framework: [] for w in workers}
        for r in range(repeats):
            for w in (workers if r % 2 == 0 else workers[::-1]):
                times[w.framework].append(w.ask("step")["ms"])
        out = {}
        for w in workers:
            ms = statistics.median(times[w.framework])
            out[w.framework] = dict(median_ms=ms, min_ms=min(times[w.framework]),
                                    steps_ms=times[w.framework],
                                    images_per_s=spec["batch"] / ms * 1e3,
                                    base_rss_mb=w.ready["rss_mb"], peak_rss_mb=w.close(),
                                    first_loss=first[w.framework])
    return out


def _ratios(result):
    if "torch" not in result:
        return {}
    m, t = result["minitorch"], result["torch"]
    return dict(time_ratio=m["median_ms"] / t["median_ms"],
                best_time_ratio=m["min_ms"] / t["min_ms"],
                memory_ratio=m["peak_rss_mb"] / t["peak_rss_mb"],
                first_loss_rel_diff=abs(m["first_loss"] - t["first_loss"]) / abs(t["first_loss"]))


def start_seconds(framework, spec, cache_dir=None, prewarm=False):
    """A fresh process's import, build and first step (numba cache at ``cache_dir``): the wall
    time until the first step finished, and the parts the process measured itself."""
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--first-step", framework,
           "--spec", json.dumps(spec)] + (["--prewarm"] if prewarm else [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    out = {}
    for line in proc.stdout:
        if line.startswith(PREFIX):
            out.update(json.loads(line[len(PREFIX):]))
            out.setdefault("wall_s", time.perf_counter() - t0)  # at the first step's end
    if proc.wait() != 0 or "second_step_s" not in out:
        raise RuntimeError(f"the {framework} start-time run failed (its traceback is above)")
    return out


def start_times(spec, use_torch):
    """Cold, cold with parallel warm-up, and warm start of minitorch (plus torch's start)."""
    out = {}
    with tempfile.TemporaryDirectory() as cold, tempfile.TemporaryDirectory() as prewarmed:
        out["minitorch_cold"] = start_seconds("minitorch", spec, cold)
        out["minitorch_warm"] = start_seconds("minitorch", spec, cold)
        out["minitorch_cold_prewarm"] = start_seconds("minitorch", spec, prewarmed, True)
    if use_torch:
        out["torch"] = start_seconds("torch", spec)
    return out


def machine_info():
    import numba
    info = dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                python=platform.python_version(), numpy=np.__version__,
                numba=numba.__version__, threads=THREADS,
                openblas_thread_timeout=os.environ.get("OPENBLAS_THREAD_TIMEOUT"))
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next(s.split(":", 1)[1].strip() for s in lscpu.splitlines()
                           if s.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    from threadpoolctl import threadpool_info
    info["blas"] = [f"{p['internal_api']} {p.get('version')}" for p in threadpool_info()
                    if p.get("user_api") == "blas"]
    try:
        from importlib.metadata import version
        info["torch"] = version("torch")
    except Exception:  # noqa: BLE001 - any failure just means "not installed"
        info["torch"] = None
    return info


def _fmt(d, key, digits):
    return f"{d[key]:.{digits}f}" if key in d else "-"


def format_table(results, starts=None):
    """The results as markdown tables ("-" where PyTorch was not run)."""
    lines = ["| workload | minitorch ms | PyTorch ms | time ratio | best-step ratio | "
             "minitorch img/s | PyTorch img/s | minitorch peak MiB | PyTorch peak MiB | "
             "memory ratio | load |", "|---" * 11 + "|"]
    for name, r in results.items():
        m, t = r["minitorch"], r.get("torch") or {}
        cells = [f"({name}) {r['title']}", f"{m['median_ms']:.0f}", _fmt(t, "median_ms", 0),
                 _fmt(r, "time_ratio", 2), _fmt(r, "best_time_ratio", 2),
                 f"{m['images_per_s']:.1f}", _fmt(t, "images_per_s", 1),
                 f"{m['peak_rss_mb']:.0f}", _fmt(t, "peak_rss_mb", 0), _fmt(r, "memory_ratio", 2),
                 "/".join(f"{v:.1f}" for v in r.get("load_avg_1min", ()))]
        lines.append("| " + " | ".join(cells) + " |")
    if starts:
        lines += ["", "| start: fresh process, workload c | until 1st step done s | import+build s "
                  "| 1st step s | 2nd step s |", "|---|---|---|---|---|"]
        names = dict(minitorch_cold="minitorch, empty numba cache",
                     minitorch_cold_prewarm="minitorch, empty cache, kernels.warmup(2) first",
                     minitorch_warm="minitorch, numba cache filled", torch="PyTorch")
        for k, v in starts.items():
            lines.append(f"| {names[k]} | {v['wall_s']:.1f} | {v['import_build_s']:.1f} | "
                         f"{v['first_step_s']:.1f} | {v['second_step_s']:.1f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- profile
def profile_workload(spec, steps, top=25):
    """cProfile of one minitorch step, then the per-op timer over ``steps`` steps (text)."""
    import cProfile
    import io
    import pstats
    from minitorch.utils.profile import OpProfiler
    step = minitorch_step(spec)
    step()  # compile / load kernels and allocate scratch outside the measurement
    prof = cProfile.Profile()
    prof.runcall(step)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    # steps timed without the op timer, then with it: the difference is its overhead
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    plain = (time.perf_counter() - t0) / steps
    with OpProfiler() as ops:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        timed = (time.perf_counter() - t0) / steps
    return (f"step {plain * 1e3:.0f} ms without the op timer, {timed * 1e3:.0f} ms with it\n\n"
            + ops.report(steps, timed) + "\n\ncProfile of one step, by own time:\n"
            + buf.getvalue()[buf.getvalue().find("   ncalls"):])


# ----------------------------------------------------------------------------- command line
def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="a,b,c", help="comma-separated subset of a,b,c")
    ap.add_argument("--repeats", type=int, default=5, help="timed steps per framework")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (>= 1)")
    ap.add_argument("--quick", action="store_true",
                    help="width 8, batch 2, 1 repeat, 1 warm-up step, no start times")
    ap.add_argument("--no-torch", action="store_true", help="minitorch only")
    ap.add_argument("--no-start", action="store_true", help="skip the start-time runs")
    ap.add_argument("--profile", action="store_true",
                    help="profile minitorch's step instead of comparing")
    ap.add_argument("--distributed", action="store_true",
                    help="also run scripts/bench_distributed.py (1 and 2 processes)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--worker", choices=["minitorch", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--first-step", choices=["minitorch", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--prewarm", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    bad = [w for w in names if w not in WORKLOADS]
    if bad or not names:
        ap.error(f"--workloads: unknown workload {bad[0] if bad else '(none)'!r}; "
                 f"choose from {','.join(WORKLOADS)}")
    if args.repeats < 1 or args.warmup < 1:
        ap.error(f"--repeats and --warmup must be >= 1, got {args.repeats} and {args.warmup}")
    if args.quick:
        args.repeats, args.warmup, args.no_start = 1, 1, True
    args.names = names
    return args


def _specs(args):
    specs = {}
    for name in args.names:
        spec = dict(WORKLOADS[name])
        if args.quick:
            spec.update(QUICK)
        specs[name] = spec
    return specs


def _torch_available(args):
    if args.no_torch:
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: timing minitorch only", file=sys.stderr)
        return False
    return True


def _distributed(quick):
    if not (SCRIPTS / "bench_distributed.py").exists():
        print("--distributed: scripts/bench_distributed.py is not there yet; skipped",
              file=sys.stderr)
        return None
    sys.path.insert(0, str(SCRIPTS))
    import bench_distributed
    if quick:  # one small step per configuration: checks the wiring, not the speed
        results = bench_distributed.run(models=("small",), procs=(1, 2), freezes=("none",),
                                        steps=1)
    else:
        results = bench_distributed.run(models=("small", "full"), procs=(1, 2))
    print(bench_distributed.format_results(results))
    return results


def main(argv=None):
    args = _parse(argv)
    if args.worker:
        return worker(args.worker, json.loads(args.spec), args.weights)
    if args.first_step:
        return first_step(args.first_step, json.loads(args.spec), args.prewarm)
    specs = _specs(args)
    report = dict(machine=machine_info(), quick=args.quick, repeats=args.repeats,
                  warmup=args.warmup, workloads={})
    if args.profile:
        report["profile"] = {}
        for name, spec in specs.items():
            text = profile_workload(spec, args.repeats)
            print(f"## ({name}) {spec['title']}\n\n{text}")
            report["profile"][name] = text
    else:
        use_torch = _torch_available(args)
        for name, spec in specs.items():
            load_before = os.getloadavg()[0]
            result = run_workload(spec, args.repeats, args.warmup, use_torch)
            result["load_avg_1min"] = [load_before, os.getloadavg()[0]]
            title = f"{spec['title']}, batch {spec['batch']} at {spec['size']}"
            report["workloads"][name] = dict(title=title, spec=spec, **result,
                                             **_ratios(result))
        if not args.no_start:
            report["start"] = start_times(specs.get("c", dict(WORKLOADS["c"])), use_torch)
        print(json.dumps(report["machine"]))
        print(format_table(report["workloads"], report.get("start")))
    if args.distributed:
        report["distributed"] = _distributed(args.quick)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
