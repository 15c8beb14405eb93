"""Random programs over the nn.functional entries (the "nn" family, programs_nn.py), alone and
mixed with the core ops, each run in torch and in minitorch: values, gradients, dtypes, shapes,
flags and errors must agree. (Locally: scripts/difftest.py --families nn --programs 3000.)"""
import pytest

from .test_random_programs import PER_CHUNK, _divergences

pytest.importorskip("torch")

CHUNKS = 3


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_nn_programs_agree_with_torch(chunk):
    families = ("nn",) if chunk % 2 == 0 else ("core", "nn")
    report = _divergences(300_000 + chunk * PER_CHUNK, families)
    assert not report, f"{len(report)} of {PER_CHUNK} programs diverged:\n\n" + "\n\n".join(report)
