"""nn.RNN / LSTM / GRU and their cells against torch 2.13: the same state dict in, the same
outputs, final states and gradients (inputs, initial states, every parameter) out."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn

torch = pytest.importorskip("torch")

CASES = [
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(batch_first=True, bidirectional=True)),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(batch_first=True, bias=False)),
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2, batch_first=True)),
]


def _pair(kind, kwargs, *args):
    torch.manual_seed(0)   # the same weights whichever tests ran before in this process
    ref = getattr(torch.nn, kind)(*args, **kwargs)
    ours = getattr(nn, kind)(*args, **kwargs)
    ours.load_state_dict({k: mt.from_numpy(v.detach().numpy().copy())
                          for k, v in ref.state_dict().items()})
    return ref, ours


def _close(a, b):
    # float32 rounding of a sum is relative to its terms, not to a result that cancels: an
    # element of 3e-3 in a gradient of magnitude 10 may differ by a few ulps of 10
    a, b = a.detach().numpy(), b.detach().numpy()
    scale = float(np.abs(b).max()) if b.size else 0.0
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * max(1.0, scale))


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("kind,kwargs", CASES, ids=[f"{k}-{sorted(a)}" for k, a in CASES])
def test_recurrent_layer_matches_torch(kind, kwargs, with_hx):
    ref, ours = _pair(kind, kwargs, 3, 5)
    assert repr(ours) == repr(ref)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 3) if kwargs.get("batch_first") else (4, 2, 3))
    x = x.astype(np.float32)
    directions = 2 if kwargs.get("bidirectional") else 1
    h_shape = (kwargs.get("num_layers", 1) * directions, 2, 5)
    h0 = rng.standard_normal(h_shape).astype(np.float32)
    c0 = rng.standard_normal(h_shape).astype(np.float32)
    results = []
    for lib, module in ((torch, ref), (mt, ours)):
        xt = lib.tensor(x, requires_grad=True)
        states = [lib.tensor(h0, requires_grad=True), lib.tensor(c0, requires_grad=True)]
        hx = None
        if with_hx:
            hx = tuple(states) if kind == "LSTM" else states[0]
        out, hn = module(xt, hx)
        finals = hn if kind == "LSTM" else (hn,)
        loss = out.pow(2).sum() + sum((f * (i + 2)).sum() for i, f in enumerate(finals))
        loss.backward()
        grads = [xt.grad] + [s.grad for s in states if s.grad is not None]
        grads += [p.grad for p in module.parameters()]
        results.append((out, finals, grads))
    (r_out, r_fin, r_grads), (o_out, o_fin, o_grads) = results
    assert tuple(o_out.shape) == tuple(r_out.shape)
    _close(o_out, r_out)
    assert len(o_fin) == len(r_fin)
    for a, b in zip(o_fin, r_fin):
        _close(a, b)
    assert len(o_grads) == len(r_grads)
    for a, b in zip(o_grads, r_grads):
        _close(a, b)


def test_unbatched_input_and_lstm_state_tuple():
    ref, ours = _pair("LSTM", {}, 3, 4)
    x = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    r_out, (r_h, r_c) = ref(torch.from_numpy(x))
    o_out, (o_h, o_c) = ours(mt.from_numpy(x))
    assert tuple(o_out.shape) == (6, 4) and tuple(o_h.shape) == (1, 4)
    for a, b in ((o_out, r_out), (o_h, r_h), (o_c, r_c)):
        _close(a, b)


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_match_torch(kind):
    ref, ours = _pair(kind, {}, 3, 4)
    assert repr(ours) == repr(ref)
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    r, o = ref(torch.from_numpy(x)), ours(mt.from_numpy(x))
    for a, b in zip(o if kind == "LSTMCell" else (o,), r if kind == "LSTMCell" else (r,)):
        _close(a, b)


def test_bad_input_and_state_shapes_are_errors_naming_the_sizes():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 3, got 5"):
        lstm(mt.ones(2, 1, 5))
    with pytest.raises(RuntimeError,
                       match="Expected hidden\\[0\\] size \\(1, 1, 4\\), got \\[1, 2, 4\\]"):
        lstm(mt.ones(2, 1, 3), (mt.zeros(1, 2, 4), mt.zeros(1, 1, 4)))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D instead"):
        lstm(mt.ones(2, 1, 1, 3))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_dropout_between_layers_only_in_training():
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = mt.ones(5, 2, 3)
    gru.eval()
    a, _ = gru(x)
    b, _ = gru(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    gru.train()
    mt.manual_seed(0)
    c, _ = gru(x)
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())
