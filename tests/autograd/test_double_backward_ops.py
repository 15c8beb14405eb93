"""Second derivatives through norms, products and running sums, the gathering and scattering
ops (gather, sort, topk, index_select, scatter, masked_select, flip, roll, repeat, tril,
diagonal, einsum), binary cross-entropy, cosine similarity, the unary maths and the further
activations, compared with torch's values and grad_fn names."""
import numpy as np
import pytest

import minitorch as mt

from .test_double_backward_conv import assert_like_torch

torch = pytest.importorskip("torch")

rng = np.random.default_rng(11)
X = rng.standard_normal((3, 4))
X[1, 2] = 0.0                                  # a zero for the norms' and products' masks
ZEROS = np.array([[0., 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1]])  # one, none and two zeros a row
TWO_ZEROS = np.ones((3, 4))
TWO_ZEROS[2, 1] = 0.0                          # and X[1, 2]
IDX = np.array([[0, 3, 3, 1], [2, 0, 1, 1], [1, 1, 0, 2]])
T = rng.uniform(0.05, 0.95, (3, 4))
W = rng.uniform(0.5, 2.0, (3, 4))

OPS = {
    "norm_2": lambda lib, x: x.norm() * x,
    "norm_2_dim": lambda lib, x: x.norm(dim=1, keepdim=True) * x,
    "norm_1": lambda lib, x: x.norm(1, dim=0) ** 2,
    "norm_3.5": lambda lib, x: x.norm(3.5, dim=1) ** 2,
    "norm_inf": lambda lib, x: x.norm(float("inf"), dim=1) ** 2,
    "norm_dims": lambda lib, x: x.norm(2, dim=(0, 1)) ** 3,
    "cumsum": lambda lib, x: x.cumsum(1) ** 2,
    "cumprod": lambda lib, x: (x + 3).cumprod(0),
    "prod": lambda lib, x: (x + 3).prod(),
    "prod_dim": lambda lib, x: (x + 3).prod(1) ** 2,
    "prod_zeros_dim": lambda lib, x: (x * lib.tensor(ZEROS)).prod(1),
    "prod_zeros_dim0": lambda lib, x: (x * lib.tensor(ZEROS)).prod(-2, keepdim=True),
    "prod_one_zero": lambda lib, x: x.prod() * x,
    "prod_two_zeros": lambda lib, x: (x * lib.tensor(TWO_ZEROS)).prod() * x,
    "cumprod_length_1": lambda lib, x: x[:1].cumprod(0) * x[:1],
    "gather": lambda lib, x: x.gather(1, lib.tensor(IDX)) ** 2,
    "sort": lambda lib, x: x.sort(dim=1, descending=True).values ** 3,
    "topk": lambda lib, x: x.topk(2, dim=0).values ** 3,
    "index_select": lambda lib, x: x.index_select(1, lib.tensor([3, 0, 3])) ** 3,
    "scatter": lambda lib, x: x.scatter(1, lib.tensor(IDX[:, :1]), x[:, 1:2] ** 2) ** 2,
    "scatter_add": lambda lib, x: lib.zeros(3, 5, dtype=x.dtype).scatter_add(
        1, lib.tensor(IDX), x ** 2),
    "masked_select": lambda lib, x: x.masked_select(lib.tensor(X > 0)) ** 3,
    "flip": lambda lib, x: x.flip(0, 1) * x,
    "roll": lambda lib, x: x.roll(2, 1) * x,
    "repeat": lambda lib, x: x.repeat(2, 1, 2) ** 2,
    "tril": lambda lib, x: x.tril(1) ** 3,
    "triu": lambda lib, x: x.triu() ** 3,
    "diagonal": lambda lib, x: x.diagonal(1) ** 3,
    "einsum_reduce": lambda lib, x: lib.einsum("ij->j", x) ** 3,
    "einsum_product": lambda lib, x: lib.einsum("ij,kj->ik", x, x.exp()),
    "einsum_three": lambda lib, x: lib.einsum("ij,jk,i->k", x, x.T.sin(), x[:, 0]),
    "bce": lambda lib, x: lib.nn.functional.binary_cross_entropy(x.sigmoid(), lib.tensor(T)),
    "bce_weight_sum": lambda lib, x: lib.nn.functional.binary_cross_entropy(
        x.sigmoid(), lib.tensor(T), weight=lib.tensor(W), reduction="sum"),
    "bce_none": lambda lib, x: lib.nn.functional.binary_cross_entropy(
        x.sigmoid(), lib.tensor(T), reduction="none") * x,
}
# torch's grad_fn of the first gradient is a node of a composite formula that minitorch records
# differently (the same values): its name is not compared
OTHER_NAMES = {"norm_2", "norm_2_dim", "norm_3.5", "norm_dims", "cumprod", "bce",
               "bce_weight_sum", "bce_none", "norm_inf", "prod_zeros_dim", "prod_zeros_dim0", "prod_one_zero", "prod_two_zeros",
               "scatter", "einsum_reduce", "einsum_product", "einsum_three"}


@pytest.mark.parametrize("name", list(OPS))
def test_op_second_derivatives_match_torch(name):
    assert_like_torch(lambda lib, x: OPS[name](lib, x), [X], names=name not in OTHER_NAMES)


UNARY = ["sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal",
         "frac"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_maths_second_derivatives_match_torch(name):
    assert_like_torch(lambda lib, x: getattr(lib, name)(x) ** 2, [np.abs(X) + 0.2],
                      names=False)


@pytest.mark.parametrize("name", ["floor", "sign", "round", "trunc", "ceil"])
def test_piecewise_constant_gradient_needs_no_gradient_as_torch(name):
    flags = []
    for lib in (torch, mt):
        x = lib.tensor(X, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(lib, name)(x).sum() + (x * x).sum(), [x],
                                 create_graph=True)
        (h,) = lib.autograd.grad(getattr(lib, name)(x).sum(), [x], create_graph=True)
        flags.append((g.requires_grad, h.requires_grad, float(h.abs().sum())))
    assert flags[0] == flags[1] == (True, False, 0.0)


ACTIVATIONS = {
    "selu": lambda F, x: F.selu(x), "celu": lambda F, x: F.celu(x, 0.5),
    "hardswish": lambda F, x: F.hardswish(x), "mish": lambda F, x: F.mish(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x), "softsign": lambda F, x: F.softsign(x),
    "softshrink": lambda F, x: F.softshrink(x, 0.5), "hardshrink": lambda F, x: F.hardshrink(x, 0.5),
    "threshold": lambda F, x: F.threshold(x, 0.4, -2.0),
}
KINKS = np.array([-3.5, -3.0, -1.2, -0.5, -0.3, 0.0, 0.4, 0.5, 2.9, 3.0, 4.0])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_more_activations_second_derivatives_match_torch(name):
    """At the kinks too."""
    assert_like_torch(lambda lib, x: ACTIVATIONS[name](lib.nn.functional, x) ** 2, [KINKS],
                      names=False)


def test_hardsigmoid_double_backward_is_torch_error():
    x = mt.tensor(KINKS, requires_grad=True)
    (g,) = mt.autograd.grad(mt.nn.functional.hardsigmoid(x).pow(2).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="derivative for aten::hardsigmoid_backward is not "
                                           "implemented"):
        g.sum().backward()


def test_bce_target_gradient_is_differentiable_as_torch():
    def f(lib, x, t):
        return lib.nn.functional.binary_cross_entropy(x, t, reduction="sum")
    assert_like_torch(f, [T, rng.uniform(0.1, 0.9, (3, 4))], names=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_with_zeros_second_derivatives_match_torch(dim):
    a = rng.standard_normal((3, 4, 2))
    a[0, 1, 0] = a[1, 2, 1] = a[2, 0, 0] = a[2, 3, 0] = a[1, 0, 1] = 0.0   # one and two a row
    assert_like_torch(lambda lib, x: x.cumprod(dim), [a], names=False)


ZERO_ROW = X.copy()
ZERO_ROW[0] = 0.0                              # a zero norm, beside X's zero element


@pytest.mark.parametrize("ord", [2, 3, 2.5, 1.5, 0.5, 1, float("inf")])
def test_norm_second_derivatives_at_a_zero_vector_and_element_are_torchs(ord):
    """torch's norm_backward masks after dividing by the norm, so its Hessian is NaN at a zero
    vector (and at a zero element for p < 2): minitorch gives the same numbers."""
    assert_like_torch(lambda lib, x: x.norm(ord, dim=1, keepdim=True) * x, [ZERO_ROW],
                      names=False)


@pytest.mark.parametrize("dim,eps", [(1, 1e-8), (0, 1e-8), (-1, 0.5)])
def test_cosine_similarity_derivatives_at_zero_and_ordinary_vectors_are_torchs(dim, eps):
    """Each norm clamped by eps outside autograd (torch's documented max(|x1|, eps) *
    max(|x2|, eps)): the gradient at a zero vector is x2 / (eps |x2|), its Hessian NaN there
    (the norm's, as torch's)."""
    # its own numbers (the module's rng is drawn in test order, which xdist changes); at the
    # zero vector the Hessian is of order 1/eps and its entries span orders: summation order
    # moves them by ~1e-8 of the largest
    other = np.random.default_rng(5).standard_normal((3, 4))
    assert_like_torch(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim, eps),
                      [ZERO_ROW, other], names=False, rtol=1e-6, of_max=True)
    assert_like_torch(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim, eps),
                      [X, other], names=False)
