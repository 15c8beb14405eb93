"""nn.init: PyTorch's formulas (gains, fans, bounds), in place, seeded by mt.manual_seed."""
import math

import numpy as np
import pytest

import minitorch as mt
from minitorch import nn
from minitorch.nn import init


@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5.0 / 3), ("relu", None, math.sqrt(2.0)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01 ** 2))),
    ("leaky_relu", math.sqrt(5), math.sqrt(2.0 / 6.0)),
])
def test_calculate_gain_table(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected)


def test_calculate_gain_rejects_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fan_in_and_fan_out_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(mt.empty(10, 20)) == (20, 10)
    assert init._calculate_fan_in_and_fan_out(mt.empty(64, 3, 7, 7)) == (147, 3136)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mt.empty(5))


def test_initialisers_work_in_place_and_bump_the_version():
    t = mt.empty(4, 5)
    storage, version = t.detach().numpy(), t._version
    assert init.ones_(t) is t and t.detach().numpy() is storage and t._version > version
    assert (t.detach().numpy() == 1).all()
    init.zeros_(t)
    assert not t.detach().numpy().any()
    init.constant_(t, 0.25)
    assert (t.detach().numpy() == 0.25).all()


def test_initialising_a_parameter_is_not_recorded_by_autograd():
    w = nn.Parameter(mt.empty(3, 3))
    init.kaiming_normal_(w)
    assert w.is_leaf and w.grad_fn is None and w.detach().numpy().dtype == np.float32


def test_uniform_bounds_and_normal_moments():
    t = mt.empty(200, 500)
    init.uniform_(t, -0.5, 2.0)
    assert t.detach().numpy().min() >= -0.5 and t.detach().numpy().max() < 2.0
    assert abs(t.detach().numpy().mean() - 0.75) < 0.01
    init.normal_(t, 3.0, 0.5)
    assert abs(t.detach().numpy().mean() - 3.0) < 0.01 and abs(t.detach().numpy().std() - 0.5) < 0.01


def test_kaiming_uniform_bound_matches_pytorch_default_linear_init():
    # a = sqrt(5) (PyTorch's Linear/Conv default) gives the bound 1 / sqrt(fan_in).
    w = mt.empty(300, 400)
    init.kaiming_uniform_(w, a=math.sqrt(5))
    bound = 1 / math.sqrt(400)
    assert w.detach().numpy().max() <= bound and w.detach().numpy().min() >= -bound
    assert w.detach().numpy().max() > 0.99 * bound and w.detach().numpy().min() < -0.99 * bound


def test_kaiming_normal_fan_out_relu_std():
    w = mt.empty(256, 64, 3, 3)
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.detach().numpy().std() == pytest.approx(math.sqrt(2.0 / (256 * 9)), rel=0.02)


def test_xavier_uniform_and_normal():
    w = mt.empty(300, 200)
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / 500)
    assert w.detach().numpy().max() <= bound and w.detach().numpy().max() > 0.99 * bound
    init.xavier_normal_(w)
    assert w.detach().numpy().std() == pytest.approx(math.sqrt(2.0 / 500), rel=0.03)


def test_kaiming_rejects_a_bad_mode():
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_uniform_(mt.empty(2, 2), mode="fan_avg")


def test_manual_seed_makes_initialisation_reproducible():
    mt.manual_seed(123)
    a = nn.Linear(5, 4)
    mt.manual_seed(123)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    np.testing.assert_array_equal(a.bias.detach().numpy(), b.bias.detach().numpy())
    c = nn.Linear(5, 4)
    assert not np.array_equal(a.weight.detach().numpy(), c.weight.detach().numpy())


def test_float64_tensors_are_initialised_in_float64():
    t = mt.empty(3, 4, dtype=mt.float64)
    init.kaiming_uniform_(t)
    assert t.detach().numpy().dtype == np.float64


def test_trunc_normal_stays_inside_bounds():
    t = mt.empty(1000)
    init.trunc_normal_(t, std=1.0, a=-0.5, b=0.5)
    assert t.detach().numpy().min() >= -0.5 and t.detach().numpy().max() <= 0.5


@pytest.mark.parametrize("fill", [lambda t: init.uniform_(t, -0.3, 0.7),
                                  lambda t: init.normal_(t, 0.5, 2.0),
                                  lambda t: init.kaiming_uniform_(t, a=math.sqrt(5))])
@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_a_contiguous_fill_equals_the_strided_one_and_makes_no_temporary(fill, dtype):
    import tracemalloc
    mt.manual_seed(3)
    whole = fill(mt.empty(512, 1024, dtype=dtype))
    mt.manual_seed(3)
    strided = fill(mt.empty(1024, 512, dtype=dtype).t())   # drawn into a temporary, copied
    assert not strided._data.flags.c_contiguous
    np.testing.assert_array_equal(whole.numpy(), strided.numpy())
    w = mt.empty(512, 1024, dtype=dtype)
    tracemalloc.start()
    try:
        fill(w)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < w._data.nbytes / 8, peak
    assert w._version == 1
