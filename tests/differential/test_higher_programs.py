"""Random programs of the ``higher`` family (programs_higher.py) mixed with the core and view
ops, and with the ``math`` (prod, cumsum, cumprod, norm, the unary maths, fmod/remainder) and
``index`` (gather/scatter, index_select, sort/topk, flip/roll/repeat, tril/triu, diagonal,
einsum) and ``nn`` (activations, norms, pads, pools, interpolate, conv, unfold, the losses)
families: ``autograd.grad(..., create_graph=True)``, ``backward(create_graph=True)``
and differentiating the gradients again, run in torch and in minitorch; every value, gradient,
flag and error must agree."""
import pytest

from .test_random_programs import _divergences

torch = pytest.importorskip("torch")

CHUNKS = 3
MIXED = {"math": 310_000, "index": 320_000}
NN_SEED, NN_CHUNKS = 340_000, 5   # (~2 s a chunk of 100)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_higher_order_programs_agree_with_torch(chunk):
    report = _divergences(300_000 + chunk * 100, ("core", "views", "higher"))
    assert not report, f"{len(report)} of 100 programs diverged:\n\n" + "\n\n".join(report)


@pytest.mark.parametrize("family", list(MIXED))
def test_higher_order_programs_over_more_ops_agree_with_torch(family):
    report = _divergences(MIXED[family], (family, "higher"))
    assert not report, f"{len(report)} of 100 programs diverged:\n\n" + "\n\n".join(report)


@pytest.mark.parametrize("chunk", range(NN_CHUNKS))
def test_higher_order_programs_over_nn_agree_with_torch(chunk):
    report = _divergences(NN_SEED + chunk * 100, ("nn", "higher"))
    assert not report, f"{len(report)} of 100 programs diverged:\n\n" + "\n\n".join(report)
