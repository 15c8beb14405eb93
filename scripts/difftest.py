"""Run random tensor programs in torch and minitorch and print every divergence found.

    python scripts/difftest.py --programs 500 --seed 0 [--families core views inplace]
    python scripts/difftest.py --programs 500 --seed 0 --families optim

(``optim``: optimizer and scheduler programs, tests/differential/programs_optim.py; it is not
mixed with the tensor-op families.)

Each divergent program is printed whole (it runs as-is with ``lib`` bound to either library),
followed by what differed. Exit status 1 when any program diverged.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.differential.harness import diff_program  # noqa: E402
from tests.differential.programs import FAMILIES, generate  # noqa: E402
from tests.differential.programs_optim import diff_optim, generate_optim  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--programs", type=int, default=200, help="how many programs (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first program (default 0)")
    p.add_argument("--families", nargs="+", choices=FAMILIES + ("optim",), default=list(FAMILIES),
                   help="op families to draw from (default: all)")
    p.add_argument("--steps", type=int, default=None,
                   help="ops per program (default 8; optim: optimizer steps, default 3-8)")
    p.add_argument("--grad-fn-names", action="store_true",
                   help="also compare grad_fn names (torch's node class vs grad_fn.name())")
    args = p.parse_args(argv)
    optim = "optim" in args.families
    if optim and len(args.families) > 1:
        p.error("the optim family runs alone")
    bad = 0
    for seed in range(args.seed, args.seed + args.programs):
        if optim:
            lines = generate_optim(seed, steps=args.steps)
            diffs = diff_optim(lines)
        else:
            lines = generate(seed, args.families, steps=args.steps or 8)
            diffs = diff_program(lines, grad_fn_names=args.grad_fn_names)
        if diffs:
            bad += 1
            print(f"# ---- seed {seed}, families {' '.join(args.families)}")
            print("\n".join(lines))
            print("# differs:\n#   " + "\n#   ".join(diffs) + "\n")
    print(f"{bad} of {args.programs} programs diverged")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
