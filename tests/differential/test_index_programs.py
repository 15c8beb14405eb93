"""Random programs of the "index" family (tests/differential/programs_index.py), each run in torch
and in minitorch: values, gradients, dtypes, shapes, flags and errors must agree. A few hundred
here; ``python scripts/difftest.py --families index --programs 3000`` runs more."""
import pytest

from .test_random_programs import _divergences

torch = pytest.importorskip("torch")

CHUNKS = 3


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_index_programs_agree_with_torch(chunk):
    """split/chunk/unbind pieces, narrow, movedim, diagonal, unfold, gather/scatter, masks, sort/topk,
    flip/roll/repeat, tril/triu, mm/bmm/dot/mv/outer/addmm/einsum, their in-place forms and
    in-place ops through split pieces, some under no_grad."""
    report = _divergences(300_000 + chunk * 100, ("index",))
    assert not report, f"{len(report)} of 100 programs diverged:\n\n" + "\n\n".join(report)
