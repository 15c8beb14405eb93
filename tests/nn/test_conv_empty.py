"""Convolutions of an empty batch and transposed convolutions whose output would be empty, live
against torch 2.13: torch returns an empty tensor of the output's shape for an empty batch (its
gradients: an empty input gradient, zero weight and bias gradients, to second order) and refuses
an output length below 1 for a non-empty batch (below 0 for an empty one)."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")

# (op, input shape, weight shape, keyword arguments)
EMPTY_BATCH = [
    ("conv_transpose2d", (0, 4, 5, 5), (4, 3, 3, 3), {}),
    ("conv_transpose2d", (0, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (0, 4, 5, 5), (4, 3, 3, 3), dict(dilation=3, output_padding=2)),
    ("conv_transpose2d", (0, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, groups=2)),
    ("conv_transpose2d", (0, 2, 2, 2), (2, 3, 1, 1), dict(padding=1)),     # output (0, 0)
    ("conv_transpose2d", (0, 2, 0, 3), (2, 3, 3, 3), {}),                  # no rows either
    ("conv_transpose1d", (0, 2, 5), (2, 3, 3), dict(stride=2)),
    ("conv_transpose1d", (0, 2, 2), (2, 3, 1), dict(padding=1)),           # output length 0
    ("conv2d", (0, 2, 5, 5), (3, 2, 3, 3), dict(stride=2, padding=1)),
    ("conv2d", (0, 2, 8, 8), (3, 2, 3, 3), {}),                            # Winograd-sized
    ("conv2d", (0, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, dilation=2)),
    ("conv1d", (0, 2, 5), (3, 2, 3), dict(padding=1)),
]


def _out_channels(op, w_shape, kwargs):
    return w_shape[1] * kwargs.get("groups", 1) if "transpose" in op else w_shape[0]


@pytest.mark.parametrize("op,x_shape,w_shape,kwargs", EMPTY_BATCH,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in EMPTY_BATCH])
def test_an_empty_batch_gives_torchs_empty_output_and_zero_gradients(op, x_shape, w_shape,
                                                                     kwargs):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(w_shape)
    results = []
    for lib, fn in ((torch, getattr(torch.nn.functional, op)), (mt, getattr(F, op))):
        x = lib.zeros(x_shape, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(w0, requires_grad=True)
        b = lib.arange(float(_out_channels(op, w_shape, kwargs)), dtype=lib.float64,
                       requires_grad=True)
        y = fn(x, w, b, **kwargs)
        gx, gw, gb = lib.autograd.grad((y * y).sum() + y.sum(), (x, w, b), create_graph=True)
        gww, = lib.autograd.grad((gw * gw).sum() + gb.sum(), (w,), allow_unused=True)
        results.append((tuple(y.shape), str(y.dtype).split(".")[-1], tuple(gx.shape),
                        gw.detach().numpy().tolist(), gb.detach().numpy().tolist(),
                        None if gww is None else gww.numpy().tolist()))
    assert results[1] == results[0]


@pytest.mark.parametrize("module", ["ConvTranspose2d", "ConvTranspose1d", "Conv2d", "Conv1d"])
def test_modules_take_an_empty_batch(module):
    results = []
    for lib in (torch, mt):
        m = getattr(lib.nn, module)(2, 3, 3, stride=2)
        x = lib.zeros((0, 2) + (5,) * (2 if module.endswith("2d") else 1))
        y = m(x)
        y.sum().backward()
        out = [tuple(y.shape), m.weight.grad.abs().sum().item(), m.bias.grad.tolist()]
        if "Transpose" in module:
            out.append(tuple(m(x, output_size=[12] * (x.ndim - 2)).shape))
        results.append(out)
    assert results[1] == results[0]


ERRORS = [
    # (op, input shape, weight shape, kwargs, the part of torch's message both must contain)
    ("conv_transpose1d", (1, 2, 2), (2, 3, 1), dict(padding=1),
     "Given input size per channel: (1 x 2). Calculated output size per channel: (1 x 0). "
     "Output size is too small"),
    ("conv_transpose1d", (1, 2, 1), (2, 3, 1), dict(padding=2),
     "Calculated output size per channel: (1 x -3). Output size is too small"),
    ("conv_transpose2d", (1, 2, 1, 3), (2, 3, 1, 1), dict(padding=(1, 0)),
     "Given input size per channel: (1 x 3). Calculated output size per channel: (-1 x 3)"),
    ("conv_transpose2d", (2, 1, 3), (2, 3, 1, 1), dict(padding=(1, 0)),    # unbatched
     "Calculated output size per channel: (-1 x 3). Output size is too small"),
    ("conv_transpose2d", (1, 2, 0, 3), (2, 3, 3, 3), {},
     "Only zero batch or zero channel inputs are supported, but got input shape: [1, 2, 0, 3]"),
    ("conv_transpose2d", (2, 0, 3), (2, 3, 1, 1), {},
     "Only zero batch or zero channel inputs are supported, but got input shape: [1, 2, 0, 3]"),
    ("conv_transpose2d", (1, 0, 3, 3), (0, 3, 1, 1), {},
     "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size "
     "[0, 3, 1, 1] instead"),
    ("conv_transpose2d", (1, 2, 5, 5), (2, 0, 3, 3), {},
     "non-empty 2D or 4D weight tensor expected, but got: [2, 0, 3, 3]"),
]


@pytest.mark.parametrize("op,x_shape,w_shape,kwargs,message", ERRORS,
                         ids=[f"{e[0]}-{e[1]}-{e[3]}" for e in ERRORS])
def test_an_empty_output_or_input_is_refused_as_torch(op, x_shape, w_shape, kwargs, message):
    for lib, fn in ((torch, getattr(torch.nn.functional, op)), (mt, getattr(F, op))):
        with pytest.raises(RuntimeError) as info:
            fn(lib.zeros(x_shape), lib.zeros(w_shape), **kwargs)
        assert message in str(info.value), (lib.__name__, str(info.value))
    with pytest.raises(RuntimeError, match=op):   # minitorch's message names the op
        getattr(F, op)(mt.zeros(x_shape), mt.zeros(w_shape), **kwargs)


def test_an_empty_batch_with_a_negative_output_is_refused_as_torch():
    for lib, fn in ((torch, torch.nn.functional.conv_transpose2d), (mt, F.conv_transpose2d)):
        with pytest.raises(RuntimeError):
            fn(lib.zeros(0, 2, 1, 3), lib.zeros(2, 3, 1, 1), padding=(1, 0))
