"""Time minitorch's conv2d (and BN+ReLU, max-pool) against torch.nn.functional at ResNet-18's
layer shapes, batch 16 at 224x224.

    python scripts/bench_kernels.py [--batch 16] [--repeat 7] [--only conv1,layer1] [--json]

Each library runs in its own long-lived worker process (so neither library's thread pools spin
on the cores while the other one is timed), and the parent alternates single timed calls between
them, so a noisy moment on the shared machine hits both alike. The table shows medians over
``--repeat`` calls, the minitorch/torch ratios, and the time of the forward GEMM alone (the floor
of im2col + GEMM). The forward+backward of conv1 computes the
weight gradient only, as in a training step (its input is the image).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# name: (C_in, H, C_out, kernel, stride, padding, input needs grad)
LAYERS = {
    "conv1": (3, 224, 64, 7, 2, 3, False),
    "layer1": (64, 56, 64, 3, 1, 1, True),
    "layer2": (128, 28, 128, 3, 1, 1, True),
    "layer2.ds": (64, 56, 128, 1, 2, 0, True),
    "layer3": (256, 14, 256, 3, 1, 1, True),
    "layer4": (512, 7, 512, 3, 1, 1, True),
}
EXTRA = ("bn_relu", "maxpool")


def best_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return min(times)


class Lib:
    """The few calls the benchmark needs, for minitorch or torch."""

    def __init__(self, name):
        self.name = name
        if name == "torch":
            import torch
            torch.set_num_threads(2)
            self.m, self.F = torch, torch.nn.functional
        else:
            sys.path.insert(0, ROOT)
            import minitorch
            import minitorch.nn.functional as F
            minitorch.runtime.configure(2)  # the settings the CLI and Trainer run with
            self.m, self.F = minitorch, F

    def tensor(self, a, grad=False):
        return self.m.tensor(a, requires_grad=grad)


def conv_cases(lib, batch, C, H, O, k, s, p, input_grad):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, C, H, H), dtype=np.float32), input_grad)
    w = lib.tensor(rng.standard_normal((O, C, k, k), dtype=np.float32) * 0.05, True)
    OH = (H + 2 * p - k) // s + 1
    g = lib.tensor(rng.standard_normal((batch, O, OH, OH), dtype=np.float32))

    def fwd():
        with lib.m.no_grad():
            lib.F.conv2d(x, w, stride=s, padding=p)

    def fwd_bwd():
        x.grad = w.grad = None
        lib.F.conv2d(x, w, stride=s, padding=p).backward(g)

    return {"fwd": fwd, "fwd_bwd": fwd_bwd}


def extra_case(lib, name, batch):
    """BN(train)+ReLU at layer1's activation shape; the stem's 3x3/2 max-pool."""
    rng = np.random.default_rng(1)
    if name == "bn_relu":
        y = lib.tensor(rng.standard_normal((batch, 64, 56, 56), dtype=np.float32), True)
        w, b = lib.tensor(np.ones(64, np.float32), True), lib.tensor(np.zeros(64, np.float32), True)
        rm, rv = lib.tensor(np.zeros(64, np.float32)), lib.tensor(np.ones(64, np.float32))

        def run():
            y.grad = None
            lib.F.relu(lib.F.batch_norm(y, rm, rv, w, b, training=True)).sum().backward()
        return run
    x = lib.tensor(rng.standard_normal((batch, 64, 112, 112), dtype=np.float32), True)

    def run():
        x.grad = None
        lib.F.max_pool2d(x, 3, 2, 1).sum().backward()
    return run


def gemm_ms(batch, C, H, O, k, s, p, repeat):
    OH = (H + 2 * p - k) // s + 1
    cols = np.ones((C * k * k, batch * OH * OH), np.float32)
    w2 = np.ones((O, C * k * k), np.float32)
    return best_ms(lambda: np.matmul(w2, cols), repeat)


def worker(lib_name, names, batch):
    """Serve timing requests: read a case name per line, warm it up once, answer its time (ms)."""
    lib = Lib(lib_name)
    cases = {}
    for name in names:
        if name in LAYERS:
            for kind, fn in conv_cases(lib, batch, *LAYERS[name]).items():
                cases[f"{name}.{kind}"] = fn
        else:
            cases[name] = extra_case(lib, name, batch)
    for fn in cases.values():
        fn()  # compile / first-touch outside the timed runs
    print(json.dumps(sorted(cases)), flush=True)
    for line in sys.stdin:
        fn = cases[line.strip()]
        t0 = time.perf_counter()
        fn()
        print(json.dumps((time.perf_counter() - t0) * 1e3), flush=True)


class Worker:
    """A long-lived worker process for one library, driven one timed call at a time."""

    def __init__(self, lib_name, args, names):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib_name, "--batch",
               str(args.batch), "--only", ",".join(names)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.cases = json.loads(self.proc.stdout.readline())

    def time(self, case):
        # let the other library's worker threads finish spinning and go to sleep first (libgomp
        # threads keep spinning for a while after a parallel region and would steal the cores)
        time.sleep(0.3)
        self.proc.stdin.write(case + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--worker", choices=["mt", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = [n for n in list(LAYERS) + list(EXTRA) if not args.only or n in args.only.split(",")]
    if args.worker:
        worker(args.worker, names, args.batch)
        return
    try:
        import torch  # noqa: F401
        libs = ["mt", "torch"]
    except ImportError:
        libs = ["mt"]
    workers = {lib: Worker(lib, args, names) for lib in libs}
    best = {lib: {} for lib in libs}
    for case in workers["mt"].cases:
        # strictly alternating single calls: a noisy moment hits both libraries alike
        times = {lib: [] for lib in libs}
        for _ in range(args.repeat):
            for lib in libs:
                times[lib].append(workers[lib].time(case))
        for lib in libs:
            best[lib][case] = float(np.median(times[lib]))
    for name in [n for n in names if n in LAYERS]:
        best["mt"][f"{name}.gemm"] = gemm_ms(args.batch, *LAYERS[name][:6], 3)
    for w in workers.values():
        w.close()
    if args.json:
        print(json.dumps(best, indent=1))
        return
    for name in names:
        print(_row(name, best), flush=True)


def _row(name, med):
    mt_, th = med["mt"], med.get("torch")
    if name not in LAYERS:
        line = f"{name:10s} fwd+bwd mt {mt_[name]:7.1f} ms"
        return line + (f"  torch {th[name]:7.1f} ms  ratio {mt_[name] / th[name]:.2f}" if th else "")
    C, H, O, k, s, p, _ = LAYERS[name]
    OH = (H + 2 * p - k) // s + 1
    gflop = 2.0 * 16 * OH * OH * C * k * k * O / 1e9
    f, fb, gm = mt_[f"{name}.fwd"], mt_[f"{name}.fwd_bwd"], mt_[f"{name}.gemm"]
    line = (f"{name:10s} mt fwd {f:7.1f} fwd+bwd {fb:7.1f} | gemm {gm:6.1f} "
            f"({gflop / gm * 1e3:4.0f} GFLOP/s at batch 16)")
    if th:
        tf, tfb = th[f"{name}.fwd"], th[f"{name}.fwd_bwd"]
        line += (f" | torch fwd {tf:7.1f} fwd+bwd {tfb:7.1f} | ratio fwd {f / tf:.2f} "
                 f"fwd+bwd {fb / tfb:.2f}")
    return line


if __name__ == "__main__":
    main()
