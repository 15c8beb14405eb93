"""The distances and losses core-nn added, against torch: the same expression over the same
arrays in both libraries, every reduction; values, the gradients of every float input, dtypes
and shapes must agree. Module forms: repr, buffers and the same numbers."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
from minitorch import nn

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(0)


def _arr(shape, kind="float"):
    if kind == "sign":
        return np.where(_rng.random(shape) > 0.5, 1.0, -1.0).astype(np.float32)
    if kind == "prob":
        a = _rng.random(shape).astype(np.float32) + 0.05
        return a / a.sum(-1, keepdims=True)
    if kind == "positive":
        return (_rng.random(shape) * 2 + 0.1).astype(np.float32)
    if kind == "binary":
        return (_rng.random(shape) > 0.5).astype(np.float32)
    if kind == "count":
        return _rng.integers(0, 5, shape).astype(np.float32)
    if kind == "logprob":
        a = _rng.standard_normal(shape).astype(np.float32)
        return a - np.log(np.exp(a).sum(-1, keepdims=True))
    return _rng.standard_normal(shape).astype(np.float32)


# (id, expression over F and the inputs a, b, c, ... with {r} the reduction or None,
#  [(shape, kind, requires_grad)])
CASES = [
    ("cosine_similarity", "F.cosine_similarity(a, b)", [((4, 5), "float", True)] * 2),
    ("cosine_similarity_bcast", "F.cosine_similarity(a, b, dim=-1, eps=0.5)",
     [((3, 1, 4), "float", True), ((2, 4), "float", True)]),
    ("cosine_similarity_zero", "F.cosine_similarity(a * 0, b)", [((2, 3), "float", True)] * 2),
    ("pairwise_distance", "F.pairwise_distance(a, b)", [((4, 5), "float", True)] * 2),
    ("pairwise_distance_p1", "F.pairwise_distance(a, b, p=1, keepdim=True)",
     [((4, 5), "float", True)] * 2),
    ("pdist", "F.pdist(a)", [((5, 3), "float", True)]),
    ("pdist_p3", "F.pdist(a, p=3)", [((4, 3), "float", True)]),
    ("kl_div", "F.kl_div(a, b, reduction={r})", [((3, 4), "logprob", True),
                                                 ((3, 4), "prob", True)]),
    ("kl_div_batchmean", "F.kl_div(a, b, reduction='batchmean')",
     [((3, 4), "logprob", True), ((3, 4), "prob", False)]),
    ("kl_div_log_target", "F.kl_div(a, b, reduction={r}, log_target=True)",
     [((3, 4), "logprob", True), ((3, 4), "logprob", True)]),
    ("margin_ranking", "F.margin_ranking_loss(a, b, c, margin=0.3, reduction={r})",
     [((6,), "float", True), ((6,), "float", True), ((6,), "sign", False)]),
    ("hinge_embedding", "F.hinge_embedding_loss(a, b, margin=0.5, reduction={r})",
     [((3, 4), "float", True), ((3, 4), "sign", False)]),
    ("soft_margin", "F.soft_margin_loss(a, b, reduction={r})",
     [((3, 4), "float", True), ((3, 4), "sign", False)]),
    ("multilabel_soft_margin", "F.multilabel_soft_margin_loss(a, b, reduction={r})",
     [((3, 4), "float", True), ((3, 4), "binary", False)]),
    ("multilabel_soft_margin_w", "F.multilabel_soft_margin_loss(a, b, weight=c, reduction={r})",
     [((3, 4), "float", True), ((3, 4), "binary", False), ((4,), "positive", False)]),
    ("cosine_embedding", "F.cosine_embedding_loss(a, b, c, margin=0.2, reduction={r})",
     [((5, 3), "float", True), ((5, 3), "float", True), ((5,), "sign", False)]),
    ("cosine_embedding_0d", "F.cosine_embedding_loss(a, b, c[0], reduction={r})",
     [((3,), "float", True), ((3,), "float", True), ((1,), "sign", False)]),
    ("triplet_margin", "F.triplet_margin_loss(a, b, c, reduction={r})",
     [((4, 5), "float", True)] * 3),
    ("triplet_margin_swap", "F.triplet_margin_loss(a, b, c, margin=2.0, p=1, swap=True, "
                            "reduction={r})", [((4, 5), "float", True)] * 3),
    ("gaussian_nll", "F.gaussian_nll_loss(a, b, c, reduction={r})",
     [((4, 3), "float", True), ((4, 3), "float", True), ((4, 3), "positive", True)]),
    ("gaussian_nll_homoscedastic", "F.gaussian_nll_loss(a, b, c, full=True, reduction={r})",
     [((4, 3), "float", True), ((4, 3), "float", False), ((4,), "positive", True)]),
    ("gaussian_nll_float_var", "F.gaussian_nll_loss(a, b, 0.5, reduction={r})",
     [((4, 3), "float", True), ((4, 3), "float", False)]),
    ("poisson_nll", "F.poisson_nll_loss(a, b, reduction={r})",
     [((4, 3), "float", True), ((4, 3), "count", False)]),
    ("poisson_nll_full", "F.poisson_nll_loss(a, b, log_input=False, full=True, reduction={r})",
     [((4, 3), "positive", True), ((4, 3), "count", False)]),
]


def _run(lib, functional, expr, arrays, grads):
    tensors = [lib.tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grads)]
    out = eval(expr, {"F": functional}, dict(zip("abcde", tensors)))  # noqa: S307
    g = np.linspace(-1, 1, int(np.prod(out.shape))).reshape(tuple(out.shape)).astype(np.float32)
    out.backward(lib.tensor(g))
    return out, [t.grad for t, need in zip(tensors, grads) if need]


def _with_reductions():
    for name, expr, inputs in CASES:
        for r in ("mean", "sum", "none") if "{r}" in expr else ("",):
            yield pytest.param(expr.replace("{r}", repr(r)), inputs, id=f"{name}-{r}".strip("-"))


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")   # torch's kl_div advice
@pytest.mark.parametrize("expr,inputs", list(_with_reductions()))
def test_matches_torch_values_and_gradients(expr, inputs):
    arrays = [_arr(shape, kind) for shape, kind, _ in inputs]
    grads = [g for _, _, g in inputs]
    out, ours = _run(mt, F, expr, arrays, grads)
    ref, theirs = _run(torch, torch.nn.functional, expr, arrays, grads)
    assert tuple(out.shape) == tuple(ref.shape) and str(out.dtype).split(".")[-1] == \
        str(ref.dtype).split(".")[-1]
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    for i, (o, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-4, atol=1e-6, err_msg=f"{i}")


MODULES = [
    ("nn.KLDivLoss(reduction='batchmean', log_target=True)", 2),
    ("nn.MarginRankingLoss(margin=0.1)", 3), ("nn.TripletMarginLoss(swap=True)", 3),
    ("nn.CosineEmbeddingLoss(margin=0.5, reduction='sum')", 3),
    ("nn.HingeEmbeddingLoss(margin=2.0)", 2), ("nn.SoftMarginLoss()", 2),
    ("nn.MultiLabelSoftMarginLoss(weight=lib.tensor([1.0, 2.0, 0.5]))", 2),
    ("nn.GaussianNLLLoss(full=True)", 3), ("nn.PoissonNLLLoss(log_input=False)", 2),
    ("nn.CosineSimilarity(dim=0)", 2), ("nn.PairwiseDistance(p=1.0, keepdim=True)", 2),
]


@pytest.mark.parametrize("text,arity", MODULES, ids=[m[0] for m in MODULES])
def test_module_forms_match_torch(text, arity):
    ours = eval(text, {"nn": nn, "lib": mt})  # noqa: S307
    theirs = eval(text, {"nn": torch.nn, "lib": torch})  # noqa: S307
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    kinds = {"KLDiv": ["logprob", "logprob"], "Poisson": ["positive", "count"],
             "Gaussian": ["float", "float", "positive"], "Hinge": ["float", "sign"],
             "SoftMargin": ["float", "sign"], "MultiLabel": ["float", "binary"],
             "MarginRanking": ["float", "float", "sign"]}
    kind = next((v for k, v in kinds.items() if k in text), ["float"] * 3)
    arrays = [_arr((4, 3), k) for k in kind[:arity]]
    if "CosineEmbedding" in text:
        arrays[2] = _arr((4,), "sign")
    out = ours(*[mt.tensor(a) for a in arrays])
    ref = theirs(*[torch.tensor(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call,error", [
    (lambda F, lib: F.pdist(lib.ones(2, 3, 4)), RuntimeError),
    (lambda F, lib: F.cosine_embedding_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 2)),
     RuntimeError),
    (lambda F, lib: F.triplet_margin_loss(lib.ones(2, 3), lib.ones(3), lib.ones(2, 3)),
     RuntimeError),
    (lambda F, lib: F.gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3, 2)),
     ValueError),
    (lambda F, lib: F.gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3), -lib.ones(2, 3)),
     ValueError),
    (lambda F, lib: F.margin_ranking_loss(lib.ones(2), lib.ones(2), lib.ones(2, 1)),
     RuntimeError),
])
def test_bad_shapes_raise_as_torch(call, error):
    with pytest.raises(error):
        call(F, mt)
    with pytest.raises(error):
        call(torch.nn.functional, torch)
