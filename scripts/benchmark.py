"""ResNet-18 speed and memory, minitorch against PyTorch, each framework measured alone.

    python scripts/benchmark.py                          # workloads a-e and the start rows
    python scripts/benchmark.py --workloads d --runs 5   # one workload, more runs
    python scripts/benchmark.py --workloads a,d --busy 1 # with one core kept busy meanwhile
    python scripts/benchmark.py --quick --no-torch       # width 8, batch 2, 1 run: a smoke run
    python scripts/benchmark.py --profile --workloads d  # where minitorch's step time goes

Workloads (the same architecture and identical weights in both frameworks, random data):
  a  full training step (forward, cross-entropy, backward, SGD momentum), batch 16 at 224x224
  b  frozen backbone: only ``fc`` trainable, BatchNorm in eval mode, batch 16 at 224x224
  c  full training step, ``variant="small"`` (width 64), batch 64 at 32x32
  d  full training step, torchvision's ResNet-18 (the imagenet stem), batch 64 at 32x32
  e1 inference: eval forward without a graph, batch 1 at 224x224 (latency)
  e64 inference: the same at batch 64 (throughput); ``e`` means both

How it measures, the way a user timing their own script would: a *run* is one fresh process for
one framework and one workload (``import numpy`` first, then the framework; build; ``--warmup``
untimed steps; the median of ``--steps`` timed steps; its peak RSS). Runs alternate whole
(minitorch, PyTorch, minitorch, ...), ``--runs`` of each; a framework's figure is the median of
its runs. Both use ``--threads`` threads: PyTorch by ``torch.set_num_threads``, minitorch by
``minitorch.runtime.configure`` (what its CLI and Trainer call; ``--no-configure`` leaves the
process as ``import minitorch`` finds it). The machine's 1-minute load is printed per workload.

Start rows: the main job (``minitorch-finetune configs/digits_finetune.yaml``) run to its end as
on a fresh clone (a copy of this checkout without bytecode or numba caches): with an empty numba
cache (cold), then again with that cache and the bytecode the first run wrote (warm).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
sys.path[:0] = [str(REPO), str(SCRIPTS)]  # this checkout's minitorch, models, fixtures_resnet
_IMAGENET = dict(variant="imagenet", width=64, num_classes=1000, size=224)
WORKLOADS = {
    "a": dict(_IMAGENET, title="train step", batch=16, mode="train"),
    "b": dict(_IMAGENET, title="frozen backbone (fc only, eval BN)", batch=16, mode="frozen"),
    "c": dict(title="train step, small variant", variant="small", width=64, num_classes=10,
              batch=64, size=32, mode="train"),
    "d": dict(title="train step, imagenet stem", variant="imagenet", width=64, num_classes=10,
              batch=64, size=32, mode="train"),
    "e1": dict(_IMAGENET, title="inference (eval forward)", batch=1, mode="infer"),
    "e64": dict(_IMAGENET, title="inference (eval forward)", batch=64, mode="infer"),
}
ALIASES = {"e": ("e1", "e64")}
# Whole jobs with their own module: name -> module with job(threads, use_torch) and format_job
JOBS = {"f": "bench_finetune"}   # finetuning on photos, the cached frozen prefix (issue 14)
QUICK = dict(width=8, batch=2)
PREFIX = "@@"  # marks the run's protocol line on stdout (libraries may print other lines)
MAIN_JOB = ["-m", "minitorch.train.cli", "configs/digits_finetune.yaml"]

__all__ = ["WORKLOADS", "build_step", "run_once", "run_workload", "main_job_seconds",
           "machine_info", "format_table", "main"]


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


# ----------------------------------------------------------------------------- one run
def _data(spec):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((spec["batch"], 3, spec["size"], spec["size"]), dtype=np.float32)
    return x, rng.integers(0, spec["num_classes"], spec["batch"])


def build_step(framework, spec, weights=None, threads=2, configure=True):
    """Build workload ``spec`` in ``framework``; return a function doing one step (returning a
    float). ``weights``: an .npz state dict to load, or (minitorch) to write if it is missing."""
    if framework == "torch":
        import torch as lib
        from fixtures_resnet import torch_resnet18
        lib.set_num_threads(threads)
        model = torch_resnet18(lib, spec["num_classes"], spec["variant"], spec["width"])
    else:
        import minitorch as lib
        from minitorch.kernels.blas_core import core_names
        from models import resnet18
        kernels = lib.runtime.configure(threads).blas_kernels if configure else core_names()
        lib.manual_seed(0)
        model = resnet18(num_classes=spec["num_classes"], variant=spec["variant"],
                         width=spec["width"])
    if weights and os.path.exists(weights):
        with np.load(weights) as f:   # (from_numpy in both: the arrays read are not copied)
            model.load_state_dict({k: lib.from_numpy(f[k]) for k in f.files})
    elif weights and framework == "minitorch":
        np.savez(weights, **{k: v.numpy() for k, v in model.state_dict().items()})
    step = _make_step(lib, model, spec)
    step.blas = ", ".join(kernels) if framework == "minitorch" else None
    return step


def _make_step(lib, model, spec):
    """One step, written once for both libraries (they share these names)."""
    x, y = _data(spec)
    x, y = lib.tensor(x), lib.tensor(y)
    if spec["mode"] == "infer":
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)

        def infer():
            with lib.no_grad():
                return float(model(x).sum().item())
        infer.model = model
        return infer
    if spec["mode"] == "frozen":
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("fc."))
        model.eval()  # the frozen backbone's BatchNorm uses running statistics
    else:
        model.train()
    opt = lib.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                        momentum=0.9)

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    step.model = model  # for tests and inspection
    return step


def run_once(framework, spec, steps, warmup, weights=None, threads=2, configure=True):
    """This process's run: build, ``warmup`` untimed steps, ``steps`` timed ones."""
    step = build_step(framework, spec, weights, threads, configure)
    first = step()
    for _ in range(warmup - 1):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return dict(ms=statistics.median(times), steps_ms=times, first=first,
                peak_rss_mb=_status_mb("VmHWM"), blas=step.blas)


# ----------------------------------------------------------------------------- driver side
def _run_process(framework, spec, args, weights):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", framework, "--spec",
           json.dumps(spec), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--threads", str(args.threads), "--weights", weights] \
        + (["--no-configure"] if args.no_configure else [])
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(PREFIX)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the {framework} run exited with code {proc.returncode} "
                           "(its traceback is above)")
    return dict(json.loads(lines[-1][len(PREFIX):]), load=load)


def run_workload(spec, args, use_torch):
    """``args.runs`` whole runs per framework, alternating; medians over the runs."""
    frameworks = ["minitorch"] + (["torch"] if use_torch else [])
    runs = {f: [] for f in frameworks}
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "weights.npz")  # the first minitorch run writes them
        for _ in range(args.runs):
            for f in frameworks:
                runs[f].append(_run_process(f, spec, args, weights))
    out = {}
    for f, rs in runs.items():
        out[f] = dict(median_ms=statistics.median(r["ms"] for r in rs),
                      runs_ms=[r["ms"] for r in rs],
                      peak_rss_mb=statistics.median(r["peak_rss_mb"] for r in rs),
                      first=rs[0]["first"], load=[r["load"] for r in rs],
                      blas=rs[0].get("blas"))
    if use_torch:
        m, t = out["minitorch"], out["torch"]
        out.update(time_ratio=m["median_ms"] / t["median_ms"],
                   memory_ratio=m["peak_rss_mb"] / t["peak_rss_mb"],
                   first_rel_diff=abs(m["first"] - t["first"]) / max(abs(t["first"]), 1e-30))
    return out


def main_job_seconds(clone, cache_dir, out_dir, extra=()):
    """Wall seconds of the main job from start to end, run in ``clone`` (numba cache at
    ``cache_dir``), writing Python's bytecode as a user's checkout does."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(clone))
    # a fresh clone has no bytecode: the first run compiles the sources, later ones load the
    # .pyc files; with PYTHONDONTWRITEBYTECODE set (as some shells and tools do) every run
    # would compile them again (~1 CPU s) and the warm row would not be what a user sees
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, *MAIN_JOB, "--set", f"output.dir={out_dir}", *extra]
    import resource
    load = os.getloadavg()[0]   # the machine's load as this run starts
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=clone, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the main job failed: {proc.stderr.strip().splitlines()[-1:]}")
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    said_compiling = "compiling kernels (first run only)" in proc.stderr
    # CPU seconds (the job and its compile processes): on a shared machine the wall time grows
    # with the load, the CPU time much less, so it tells whether a change helped
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dict(seconds=seconds, cpu_seconds=cpu, said_compiling=said_compiling, load=load)


# what a fresh clone does not have: bytecode, numba caches, runs, test and build leftovers
_NOT_CLONED = (".git", "__pycache__", "*.pyc", "*.nbi", "*.nbc", "runs", ".pytest_cache",
               ".hypothesis", "*.egg-info", "build", ".venv")


def start_rows(extra=()):
    """The main job cold and then warm, as on a fresh clone: in a copy of this checkout without
    bytecode or numba caches, with a numba cache of its own that starts empty (cold), then
    again with that cache and the bytecode the first run wrote (warm); each run into a fresh
    output folder, so nothing else carries over (the feature cache lives in the output folder)."""
    import shutil
    with tempfile.TemporaryDirectory() as tmp:
        clone, cache, out = (os.path.join(tmp, n) for n in ("clone", "cache", "out"))
        shutil.copytree(REPO, clone, ignore=shutil.ignore_patterns(*_NOT_CLONED))
        cold = main_job_seconds(clone, cache, os.path.join(out, "cold"), extra)
        warm = main_job_seconds(clone, cache, os.path.join(out, "warm"), extra)
    return dict(cold=cold, warm=warm, load=os.getloadavg()[0])


def machine_info(threads):
    import numba
    info = dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                python=platform.python_version(), numpy=np.__version__,
                numba=numba.__version__, threads=threads)
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next(s.split(":", 1)[1].strip() for s in lscpu.splitlines()
                           if s.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    # numpy's BLAS kernels as loaded: OPENBLAS_CORETYPE (some machines set it) can force AVX2
    # kernels on an AVX-512 CPU, which moves every ratio; PyTorch's own kernels ignore it, and
    # ``configure`` chooses the AVX-512 ones again (the runs' "minitorch_blas")
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = ", ".join(f"{i.get('internal_api')} {i.get('version')} "
                                 f"{i.get('architecture')}" for i in threadpool_info()
                                 if i.get("user_api") == "blas")
    except ImportError:
        pass
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE")
    try:
        from importlib.metadata import version
        info["torch"] = version("torch")
    except Exception:  # noqa: BLE001 - any failure just means "not installed"
        info["torch"] = None
    return info


def _fmt(d, key, digits):
    return f"{d[key]:.{digits}f}" if key in d else "-"


def format_table(results, starts=None, busy=0):
    """The results as markdown tables ("-" where PyTorch was not run)."""
    lines = ["| workload | minitorch ms | PyTorch ms | time ratio | minitorch peak MiB | "
             "PyTorch peak MiB | memory ratio | runs (minitorch ms) | load |", "|---" * 9 + "|"]
    for name, r in results.items():
        m, t = r["minitorch"], r.get("torch") or {}
        loads = m["load"] + t.get("load", [])
        cells = [f"({name}) {r['title']}", f"{m['median_ms']:.0f}", _fmt(t, "median_ms", 0),
                 _fmt(r, "time_ratio", 2), f"{m['peak_rss_mb']:.0f}", _fmt(t, "peak_rss_mb", 0),
                 _fmt(r, "memory_ratio", 2), " ".join(f"{v:.0f}" for v in m["runs_ms"]),
                 f"{min(loads):.1f}-{max(loads):.1f}" + (f" +{busy} busy" if busy else "")]
        lines.append("| " + " | ".join(cells) + " |")
    if starts:
        lines += ["", "| main job (digits_finetune.yaml), start to end | seconds | CPU seconds | "
                  "said 'compiling' | load |", "|---|---|---|---|---|"]
        for k in ("cold", "warm"):
            v = starts[k]
            lines.append(f"| {k} numba cache | {v['seconds']:.1f} | {v['cpu_seconds']:.1f} | "
                         f"{v['said_compiling']} | {v.get('load', starts['load']):.1f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- profile
def profile_workload(spec, steps, top=25, threads=2):
    """cProfile of one minitorch step, then the per-op timer over ``steps`` steps (text)."""
    import cProfile
    import io
    import pstats
    from minitorch.utils.profile import OpProfiler
    step = build_step("minitorch", spec, threads=threads)
    step()  # compile / load kernels and allocate scratch outside the measurement
    prof = cProfile.Profile()
    prof.runcall(step)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    t0 = time.perf_counter()  # steps timed without the op timer, then with it
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
    ap.add_argument("--workloads", default="a,b,c,d,e",
                    help="comma-separated subset of a,b,c,d,e (e = e1,e64)")
    ap.add_argument("--runs", type=int, default=3, help="whole runs per framework (median)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per run (median)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (>= 1)")
    ap.add_argument("--threads", type=int, default=2, help="threads for both frameworks")
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="keep N cores busy with spinning processes meanwhile")
    ap.add_argument("--quick", action="store_true",
                    help="width 8, batch 2, 1 run of 1 step, no start rows")
    ap.add_argument("--no-torch", action="store_true", help="minitorch only")
    ap.add_argument("--no-start", action="store_true", help="skip the main-job start rows")
    ap.add_argument("--no-configure", action="store_true",
                    help="do not call minitorch.runtime.configure in the runs")
    ap.add_argument("--profile", action="store_true",
                    help="profile minitorch's step instead of comparing")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--run", choices=["minitorch", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = []
    for w in (w.strip() for w in args.workloads.split(",") if w.strip()):
        names += ALIASES.get(w, (w,))
    args.jobs = [w for w in names if w in JOBS]
    names = [w for w in names if w not in JOBS]
    bad = [w for w in names if w not in WORKLOADS]
    if bad or not (names or args.jobs):
        ap.error(f"--workloads: unknown workload {bad[0] if bad else '(none)'!r}; "
                 f"choose from {','.join(WORKLOADS)},e,{','.join(JOBS)}")
    if min(args.runs, args.steps, args.warmup, args.threads) < 1 or args.busy < 0:
        ap.error("--runs, --steps, --warmup and --threads must be >= 1, --busy >= 0")
    if args.quick:
        args.runs, args.steps, args.warmup, args.no_start = 1, 1, 1, True
    args.names = names
    return args


def _torch_available(args):
    if args.no_torch:
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: timing minitorch only", file=sys.stderr)
        return False
    return True


def _spinners(n):
    """``n`` processes spinning a core each (the competing load of ``--busy``)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main(argv=None):
    args = _parse(argv)
    if args.run:
        result = run_once(args.run, json.loads(args.spec), args.steps, args.warmup,
                          args.weights, args.threads, not args.no_configure)
        print(PREFIX + json.dumps(result), flush=True)
        return 0
    specs = {n: dict(WORKLOADS[n], **(QUICK if args.quick else {})) for n in args.names}
    report = dict(machine=machine_info(args.threads), quick=args.quick, runs=args.runs,
                  steps=args.steps, busy=args.busy, configure=not args.no_configure,
                  workloads={})
    if args.profile:
        report["profile"] = {}
        for name, spec in specs.items():
            text = profile_workload(spec, args.steps, threads=args.threads)
            print(f"## ({name}) {spec['title']}\n\n{text}")
            report["profile"][name] = text
    else:
        use_torch = _torch_available(args)
        spinners = _spinners(args.busy)
        try:
            for name, spec in specs.items():
                result = run_workload(spec, args, use_torch)
                title = f"{spec['title']}, batch {spec['batch']} at {spec['size']}"
                report["workloads"][name] = dict(title=title, spec=spec, **result)
                print(format_table({name: report["workloads"][name]}, busy=args.busy)
                      .splitlines()[-1], flush=True)  # progress: this workload's row
            if not args.no_start:
                report["start"] = start_rows()
            for name in args.jobs:
                job = __import__(JOBS[name])
                report["workloads"][name] = job.job(args.threads, use_torch)
                print(job.format_job(report["workloads"][name]), flush=True)
        finally:
            for s in spinners:
                s.kill()
                s.wait()
        kernels = {r["minitorch"].get("blas") for k, r in report["workloads"].items()
                   if k not in args.jobs}
        report["machine"]["minitorch_blas"] = ", ".join(sorted(str(k) for k in kernels))
        print(json.dumps(report["machine"]))
        if report["workloads"].keys() - set(args.jobs):
            print(format_table({k: v for k, v in report["workloads"].items()
                                if k not in args.jobs}, report.get("start"), args.busy))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
