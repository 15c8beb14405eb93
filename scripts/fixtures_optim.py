"""Make tests/fixtures/optim_sgd.h5: torch.optim.SGD trajectories and lr-scheduler sequences.

    python scripts/fixtures_optim.py [OUT.h5]

Needs torch (2.13.0, CPU) and h5py; the tests read the file with h5py alone, so they check
parity without torch. The cases themselves live in tests/optim/optim_cases.py, shared with the
live parity tests. Layout (float64 everywhere):

    /sgd/<case>            attrs: config (JSON), steps, seed
        init_<i>           parameter i before the first step
        grads_<i>          (steps, *shape) gradient of parameter i at each step
        has_grad           (steps, n_params) bool: False where .grad was None
        traj_<i>           (steps, *shape) parameter i after each step
        momentum_buffer_<i>  the final momentum buffer (only where torch has one)
    /sched/<case>          attrs: config (JSON), base_lrs
        lrs                (epochs + 1, n_groups) lr after construction and after each step
"""
import importlib.util
import json
import os
import sys

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "optim_sgd.h5")


def _load_cases():
    path = os.path.join(ROOT, "tests", "optim", "optim_cases.py")
    spec = importlib.util.spec_from_file_location("optim_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_sgd(f, cases) -> None:
    for seed, (name, case) in enumerate(cases.SGD_CASES.items()):
        init, grads = cases.make_inputs(seed)
        params, optimizer, traj = cases.run_sgd(torch, case, init, grads)
        g = f.create_group(f"sgd/{name}")
        g.attrs["config"] = json.dumps(case)
        g.attrs["steps"] = cases.STEPS
        g.attrs["seed"] = seed
        g["has_grad"] = np.array([[cases.has_grad(s, i) for i in range(len(init))]
                                  for s in range(cases.STEPS)])
        for i, p in enumerate(params):
            g[f"init_{i}"] = init[i]
            g[f"grads_{i}"] = grads[i]
            g[f"traj_{i}"] = traj[i]
            buf = optimizer.state.get(p, {}).get("momentum_buffer")
            if buf is not None:
                g[f"momentum_buffer_{i}"] = buf.numpy()


def write_sched(f, cases) -> None:
    for name, spec in cases.SCHED_CASES.items():
        g = f.create_group(f"sched/{name}")
        g.attrs["config"] = json.dumps(spec)
        g.attrs["base_lrs"] = cases.SCHED_BASE_LRS
        g["lrs"] = cases.run_scheduler(torch, spec)


def main(argv) -> int:
    out = argv[0] if argv else DEFAULT_OUT
    torch.set_default_dtype(torch.float64)
    cases = _load_cases()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with h5py.File(out, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["made_by"] = "scripts/fixtures_optim.py"
        write_sgd(f, cases)
        write_sched(f, cases)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
