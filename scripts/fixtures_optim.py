"""Make the optimizer fixtures: torch.optim trajectories and lr-scheduler sequences.

    python scripts/fixtures_optim.py [sgd|adaptive|all] [OUT.h5]

``sgd`` writes tests/fixtures/optim_sgd.h5 (SGD and the first schedulers), ``adaptive``
tests/fixtures/optim_adaptive.h5 (Adam, AdamW, RMSprop, Adagrad, Adadelta and the schedules
added with them); ``all`` (the default) both. Needs torch (2.13.0, CPU) and h5py; the tests read
the files with h5py alone, so they check parity without torch. The cases live in
tests/optim/optim_cases.py, shared with the live parity tests. Layout (float64 everywhere):

    /sgd/<case> or /optim/<case>   attrs: config (JSON), steps, seed
        init_<i>           parameter i before the first step
        grads_<i>          (steps, *shape) gradient of parameter i at each step
        has_grad           (steps, n_params) bool: False where .grad was None
        traj_<i>           (steps, *shape) parameter i after each step
        <state>_<i>        the final state buffers (momentum_buffer, exp_avg, step, ...) where
                           torch has them
    /sched/<case>          attrs: config (JSON), base_lrs
        lrs                (epochs + 1, n_groups) lr after construction and after each step
        momentum           the same for each group's momentum or beta1 (adaptive file only)
"""
import importlib.util
import json
import os
import sys

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
OUTPUTS = {"sgd": os.path.join(FIXTURES, "optim_sgd.h5"),
           "adaptive": os.path.join(FIXTURES, "optim_adaptive.h5")}


def _load_cases():
    path = os.path.join(ROOT, "tests", "optim", "optim_cases.py")
    spec = importlib.util.spec_from_file_location("optim_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_trajectories(f, cases, table: dict, prefix: str, seed_base: int = 0) -> None:
    for seed, (name, case) in enumerate(table.items(), seed_base):
        init, grads = cases.make_inputs(seed)
        params, optimizer, traj = cases.run_optimizer(torch, case, init, grads)
        g = f.create_group(f"{prefix}/{name}")
        g.attrs["config"] = json.dumps(case)
        g.attrs["steps"] = cases.STEPS
        g.attrs["seed"] = seed
        g["has_grad"] = np.array([[cases.has_grad(s, i) for i in range(len(init))]
                                  for s in range(cases.STEPS)])
        for i, p in enumerate(params):
            g[f"init_{i}"] = init[i]
            g[f"grads_{i}"] = grads[i]
            g[f"traj_{i}"] = traj[i]
        kind = case.get("type", "SGD")
        for (i, key), value in cases.final_state(optimizer, params, kind).items():
            if kind != "SGD" or key != "step":
                g[f"{key}_{i}"] = value


def write_sched(f, cases, table: dict, with_momentum: bool) -> None:
    for name, spec in table.items():
        g = f.create_group(f"sched/{name}")
        g.attrs["config"] = json.dumps(spec)
        g.attrs["base_lrs"] = cases.SCHED_BASE_LRS
        if with_momentum:
            g["lrs"], g["momentum"] = cases.run_scheduler(torch, spec, with_momentum=True)
        else:
            g["lrs"] = cases.run_scheduler(torch, spec)


def write(which: str, out: str, cases) -> None:
    with h5py.File(out, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__)
        f.attrs["made_by"] = "scripts/fixtures_optim.py"
        if which == "sgd":
            write_trajectories(f, cases, cases.SGD_CASES, "sgd")
            write_sched(f, cases, cases.SCHED_CASES, with_momentum=False)
        else:
            write_trajectories(f, cases, cases.OPTIM_CASES, "optim", seed_base=1000)
            write_sched(f, cases, cases.SCHED_CASES_MORE, with_momentum=True)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


def main(argv) -> int:
    which = argv[0] if argv else "all"
    if which not in ("sgd", "adaptive", "all"):
        print(f"error: expected sgd, adaptive or all, got {which!r}", file=sys.stderr)
        return 2
    if len(argv) > 1 and which == "all":
        print("error: an output path needs sgd or adaptive", file=sys.stderr)
        return 2
    torch.set_default_dtype(torch.float64)
    cases = _load_cases()
    os.makedirs(FIXTURES, exist_ok=True)
    for kind in (("sgd", "adaptive") if which == "all" else (which,)):
        write(kind, argv[1] if len(argv) > 1 else OUTPUTS[kind], cases)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
