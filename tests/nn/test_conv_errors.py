"""Arguments a convolution cannot take raise what torch 2.13 raises (RuntimeError), and still a
ValueError as minitorch's other argument checks do, with a message naming the culprit. Live
against torch: each case must fail in torch too, with the same exception type."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")

# (op, input shape, weight shape, keyword arguments, a word the message names)
BAD = [
    ("conv2d", (1, 3, 2, 2), (4, 3, 3, 3), {}, "larger"),                    # kernel > input
    ("conv2d", (1, 3, 4, 4), (4, 3, 3, 3), dict(dilation=2), "larger"),       # dilated kernel
    ("conv2d", (1, 3, 5, 5), (0, 3, 3, 3), {}, "no output channels"),
    ("conv2d", (1, 5, 5, 5), (4, 3, 3, 3), {}, "channels"),
    ("conv2d", (1, 4, 5, 5), (4, 3, 3, 3), dict(groups=2), "channels"),
    ("conv2d", (1, 3, 5, 5), (4, 3, 3, 3), dict(bias=(5,)), "bias"),
    ("conv2d", (1, 3, 5, 5), (4, 3, 3), {}, "4-d weight"),
    ("conv1d", (1, 3, 2), (4, 3, 3), {}, "larger"),
    ("conv1d", (1, 2, 8), (4, 3, 3), {}, "channels"),
    ("conv1d", (1, 3, 5), (4, 3, 3, 3), {}, "3-d weight"),
    ("conv1d", (1, 3, 5), (0, 3, 3), {}, "no output channels"),
    ("conv1d", (1, 3, 5), (4, 3, 3), dict(bias=(5,)), "bias"),
    ("conv1d", (1, 3, 5), (4, 3, 3), dict(stride=2, padding="same"), "strided"),
    ("conv2d", (1, 3, 5, 5), (4, 3, 3, 3), dict(stride=2, padding="same"), "strided"),
]


def _call(lib, op, x_shape, w_shape, kwargs):
    fn = getattr(F if lib is mt else torch.nn.functional, op)
    kwargs = dict(kwargs)
    bias = kwargs.pop("bias", None)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(x_shape).astype(np.float32))
    w = lib.tensor(rng.standard_normal(w_shape).astype(np.float32))
    b = None if bias is None else lib.tensor(np.ones(bias, np.float32))
    return fn(x, w, b, **kwargs)


@pytest.mark.parametrize("op,x_shape,w_shape,kwargs,word", BAD,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[4]}" for c in BAD])
def test_bad_convolution_raises_torchs_runtime_error_and_a_value_error(op, x_shape, w_shape,
                                                                      kwargs, word):
    with pytest.raises(RuntimeError):
        _call(torch, op, x_shape, w_shape, kwargs)
    with pytest.raises(RuntimeError, match=word) as info:
        _call(mt, op, x_shape, w_shape, kwargs)
    assert isinstance(info.value, ValueError)
    # the op called, and the caller's shapes (conv1d runs on a height-1 view of them)
    assert str(info.value).startswith(op + ":")
    named = [str(tuple(shape)) in str(info.value) for shape in (x_shape, w_shape)]
    assert any(named) or word in ("bias", "strided", "3-d weight")


def test_mismatched_dtypes_raise_runtime_error_in_both():
    x, w = np.ones((1, 3, 5, 5)), np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w))
    with pytest.raises(RuntimeError, match="dtype"):
        F.conv2d(mt.tensor(x), mt.tensor(w))
