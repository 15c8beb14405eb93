"""Thousands of seeded random tensor programs, each run in torch and in minitorch: values,
gradients, dtypes, shapes, flags and errors must agree (see harness.py and programs.py).

A failing chunk lists every divergent program whole, so it can be pasted into a file and run
with ``lib`` bound to either library, or explored with ``python scripts/difftest.py``.
"""
import pytest

from .harness import diff_program
from .programs import generate

torch = pytest.importorskip("torch")

CHUNKS = 30
PER_CHUNK = 100


def _divergences(first_seed, families, count=PER_CHUNK):
    report = []
    for seed in range(first_seed, first_seed + count):
        lines = generate(seed, families)
        diffs = diff_program(lines)
        if diffs:
            report.append(f"# seed {seed}\n" + "\n".join(lines) + "\n# differs:\n#   "
                          + "\n#   ".join(diffs))
    return report


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_core_programs_agree_with_torch(chunk):
    """Arithmetic with broadcasting and Python scalars, unary maths, comparisons, reductions,
    matmul, softmax, where/clamp/maximum, promotion across dtypes, 0-d tensors, no_grad."""
    report = _divergences(chunk * PER_CHUNK, ("core",))
    assert not report, f"{len(report)} of {PER_CHUNK} programs diverged:\n\n" + "\n\n".join(report)


VIEW_CHUNKS = 5


@pytest.mark.parametrize("chunk", range(VIEW_CHUNKS))
def test_programs_with_views_agree_with_torch(chunk):
    """The core ops mixed with shape ops and indexing (read-only)."""
    report = _divergences(100_000 + chunk * PER_CHUNK, ("core", "views"))
    assert not report, f"{len(report)} of {PER_CHUNK} programs diverged:\n\n" + "\n\n".join(report)


@pytest.mark.parametrize("chunk", range(VIEW_CHUNKS))
def test_programs_with_inplace_ops_agree_with_torch(chunk):
    """The core ops and views mixed with in-place ops, augmented assignment, writes through
    views and item assignment, some under no_grad."""
    report = _divergences(200_000 + chunk * PER_CHUNK, ("core", "views", "inplace"))
    assert not report, f"{len(report)} of {PER_CHUNK} programs diverged:\n\n" + "\n\n".join(report)


MATH_CHUNKS = 3


@pytest.mark.parametrize("chunk", range(MATH_CHUNKS))
def test_programs_with_issue_12_maths_agree_with_torch(chunk):
    """The core ops mixed with the function forms (alpha=, rounding_mode=, out=), // and %,
    the comparison/logical functions, the unary maths, prod/cumsum/cumprod/logsumexp/norm,
    reductions with dtype= and correction=, casts and the in-place unary forms."""
    report = _divergences(300_000 + chunk * PER_CHUNK, ("core", "math"))
    assert not report, f"{len(report)} of {PER_CHUNK} programs diverged:\n\n" + "\n\n".join(report)
