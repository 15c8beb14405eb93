"""torch.multinomial's contract in minitorch: shapes, dtype, errors (the same as torch 2.13's),
the invariants (no repeats without replacement, zero weights never drawn while others remain),
reproducibility from seeds and generators, and the sampling distribution, tested statistically
with fixed seeds (the stream is minitorch's own, not torch's)."""
import numpy as np
import pytest

import minitorch as mt


def test_shapes_dtype_and_method_form():
    mt.manual_seed(0)
    w = mt.tensor([[0.2, 0.5, 0.3], [1.0, 1.0, 0.0]])
    for replacement in (False, True):
        out = mt.multinomial(w, 2, replacement=replacement)
        assert out.dtype == mt.int64 and tuple(out.shape) == (2, 2)
        assert not out.requires_grad
    assert tuple(w[0].multinomial(5, replacement=True).shape) == (5,)
    assert tuple(mt.multinomial(mt.ones(0, 3), 2).shape) == (0, 2)
    x = mt.ones(4, dtype=mt.float64, requires_grad=True)
    assert not mt.multinomial(x, 2).requires_grad
    out = mt.empty(3, dtype=mt.int64)
    assert mt.multinomial(mt.ones(4), 3, out=out) is out


def test_without_replacement_draws_distinct_categories_and_zero_weights_last():
    mt.manual_seed(1)
    w = mt.tensor([[0.0, 1.0, 0.0, 2.0, 5.0]] * 200)
    out = mt.multinomial(w, 5).numpy()
    assert all(len(set(row)) == 5 for row in out)                   # a permutation per row
    assert np.all(np.isin(out[:, :3], [1, 3, 4]))                   # non-zero weights first
    assert np.all(np.isin(out[:, 3:], [0, 2]))


def test_with_replacement_never_draws_a_zero_weight():
    mt.manual_seed(2)
    w = mt.tensor([0.0, 3.0, 0.0, 1.0, 0.0])
    out = mt.multinomial(w, 20000, replacement=True).numpy()
    assert set(np.unique(out)) == {1, 3}


@pytest.mark.parametrize("seed", [3, 4])
def test_frequencies_follow_the_weights(seed):
    mt.manual_seed(seed)
    p = np.array([0.1, 0.4, 0.2, 0.3])
    n = 40000
    counts = np.bincount(mt.multinomial(mt.tensor(p * 7), n, replacement=True).numpy(),
                         minlength=4)
    chi2 = ((counts - n * p) ** 2 / (n * p)).sum()
    assert chi2 < 16.3                     # 3 degrees of freedom: p-value 0.001
    # without replacement the first draw of each row follows the weights too
    firsts = mt.multinomial(mt.tensor(np.tile(p, (n, 1))), 2).numpy()[:, 0]
    counts = np.bincount(firsts, minlength=4)
    assert ((counts - n * p) ** 2 / (n * p)).sum() < 16.3
    # and the second draw is the sequential scheme's: P(second = j | first = i) = p_j / (1 - p_i)
    pairs = mt.multinomial(mt.tensor(np.tile(p, (n, 1))), 2).numpy()
    second_given_1 = pairs[pairs[:, 0] == 1, 1]
    expected = np.array([0.1, 0.0, 0.2, 0.3]) / 0.6
    freq = np.bincount(second_given_1, minlength=4) / len(second_given_1)
    np.testing.assert_allclose(freq, expected, atol=0.02)


def test_seeds_and_generators_reproduce_draws():
    w = mt.tensor([0.3, 0.3, 0.4])
    mt.manual_seed(5)
    a = mt.multinomial(w, 10, True).numpy()
    mt.manual_seed(5)
    assert np.array_equal(a, mt.multinomial(w, 10, True).numpy())
    g1, g2 = mt.Generator().manual_seed(7), mt.Generator().manual_seed(7)
    assert np.array_equal(mt.multinomial(w, 3, generator=g1).numpy(),
                          mt.multinomial(w, 3, generator=g2).numpy())


BAD = [  # (weights, num_samples, replacement)
    ([0.0, 1.0, 0.0, 2.0], 5, False),
    ([0.0, 0.0], 1, True),
    ([-1.0, 2.0], 1, True),
    ([float("nan"), 2.0], 1, True),
    ([float("inf"), 2.0], 1, True),
    ([1, 2], 1, True),
    ([[[1.0]]], 1, True),
    ([1.0, 1.0, 1.0], 0, True),
    ([1.0, 1.0, 1.0], -1, True),
]


@pytest.mark.parametrize("weights,n,replacement", BAD)
def test_errors_are_torchs(weights, n, replacement):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.multinomial(torch.tensor(weights), n, replacement)
    with pytest.raises(RuntimeError) as ours:
        mt.multinomial(mt.tensor(weights), n, replacement)
    assert str(ours.value).startswith(str(theirs.value).split(",")[0].split(":")[0])


def test_num_samples_must_be_an_int():
    with pytest.raises(TypeError, match="'num_samples'"):
        mt.multinomial(mt.ones(3), 2.0)
