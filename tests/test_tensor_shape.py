"""Indexing in PyTorch's dimension order, views vs copies, and 0-d tensors in the shape ops,
each case checked against live torch (values, shapes, gradients, errors)."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")

X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5) / 7.0

KEYS = [
    (0, slice(None), [1, 3]),
    (slice(None), 0, [1, 3]),
    ([0, 1], slice(None), [1, 3]),
    (slice(None), [0, 2], [1, 3]),
    (0, [0, 2], slice(None), 1),
    (Ellipsis, [1, 1, 0]),
    (1, Ellipsis, [4, 0]),
    (None, 0, [2, 1]),
    (slice(None), [[0, 1], [2, 0]]),
    (1, 2, 3, 4),
    (slice(1, None, 2), 1),
    (-1, slice(None), -2),
    (range(2), [0, 2]),
    (range(2), slice(None), range(1, 3)),
]


@pytest.mark.parametrize("key", KEYS, ids=[str(k) for k in KEYS])
def test_getitem_values_and_gradients_match_torch(key):
    res = []
    for lib in (mt, torch):
        x = lib.tensor(X.copy(), requires_grad=True)
        y = x[key]
        w = lib.tensor(np.arange(int(np.prod(y.shape)), dtype=np.float32).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        res.append((tuple(y.shape), y.detach().numpy().copy(), x.grad.detach().numpy().copy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_array_equal(res[0][2], res[1][2])


def test_bool_mask_index_matches_torch():
    res = []
    for lib in (mt, torch):
        x = lib.tensor(X.copy())
        res.append(x[x > 10.0].numpy().copy())
        res.append(x[0, x[0, :, 0, 0] > 1.0].numpy().copy())
    np.testing.assert_array_equal(res[0], res[2])
    np.testing.assert_array_equal(res[1], res[3])


def test_negative_steps_are_refused():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        mt.zeros(4)[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        mt.zeros(4, 2)[1, ::-2]


def test_basic_indexing_is_a_view_and_advanced_indexing_a_copy():
    x = mt.zeros(3, 4)
    basic, adv = x[1:, 2], x[[0, 2]]
    x.add_(1)
    assert basic.numpy().tolist() == [1.0, 1.0] and adv.numpy().sum() == 0
    assert basic._version == x._version and adv._version == 0
    s = x[2, 3]
    assert s.shape == () and s._base is x
    s.mul_(4)
    assert x.numpy()[2, 3] == 4.0


def test_view_and_reshape_follow_torch_on_contiguity():
    x = mt.zeros(2, 3)
    assert x.view(3, 2)._base is x and x.t().reshape(6)._base is None
    assert x.t().view(3, 2).shape == torch.zeros(2, 3).t().view(3, 2).shape
    with pytest.raises(RuntimeError, match="Use .reshape"):
        x.t().view(6)
    assert x.view(-1).shape == (6,)


SHAPE_OPS_0D = [
    ("squeeze", (0,)), ("squeeze", (-1,)), ("squeeze", ()), ("unsqueeze", (0,)),
    ("unsqueeze", (-1,)), ("flatten", ()), ("flatten", (0, -1)), ("reshape", (-1,)),
    ("reshape", ((),)), ("transpose", (0, -1)), ("t", ()), ("permute", ((),)),
    ("unsqueeze", (1,)), ("squeeze", (1,)), ("expand", ((2, 3),)),
]


@pytest.mark.parametrize("name, args", SHAPE_OPS_0D, ids=[f"{n}{a}" for n, a in SHAPE_OPS_0D])
def test_shape_ops_on_0d_tensors_match_torch(name, args):
    def run(lib):
        try:
            return tuple(getattr(lib.tensor(3.0), name)(*args).shape)
        except (IndexError, RuntimeError, ValueError) as e:
            return type(e).__name__
    assert run(mt) == run(torch)
