"""Real-world programs (tests/programs/progs/*.py), each written against a module named
``torch``: run with ``torch`` bound to minitorch, and, when PyTorch is installed, to PyTorch from
the same initial weights and data; the losses must agree (float32 rounding, compounded over
every training step) and so must the recorded outputs."""
import pathlib

import numpy as np
import pytest

from .harness import run

PROGS = pathlib.Path(__file__).parent / "progs"

# Programs that need what minitorch does not have yet; each runs (and must fail) until then.
BLOCKED = {}

PROGRAMS = sorted(p.stem for p in PROGS.glob("*.py"))


def _params():
    for name in PROGRAMS:
        marks = [pytest.mark.xfail(strict=True, reason=BLOCKED[name])] if name in BLOCKED else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", _params())
def test_program_runs_with_minitorch_and_matches_torch(name, tmp_path):
    path = PROGS / f"{name}.py"
    (tmp_path / "minitorch").mkdir()
    losses, outputs, compare = run(path, "minitorch", tmp_path / "minitorch")
    assert losses and all(np.isfinite(losses))
    pytest.importorskip("torch")
    (tmp_path / "torch").mkdir()
    ref_losses, ref_outputs, _ = run(path, "torch", tmp_path / "torch")
    assert len(losses) == len(ref_losses)
    if not compare:   # random draws differ between the frameworks: both must have learned
        assert losses[-1] < losses[0] and ref_losses[-1] < ref_losses[0]
        return
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-3, atol=1e-5)
    assert outputs.keys() == ref_outputs.keys()
    for key in outputs:
        np.testing.assert_allclose(np.asarray(outputs[key], dtype=np.float64),
                                   np.asarray(ref_outputs[key], dtype=np.float64),
                                   rtol=2e-3, atol=1e-5, err_msg=key)
