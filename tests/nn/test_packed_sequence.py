"""PackedSequence, pack_padded_sequence / pad_packed_sequence / pack_sequence / unpack_sequence,
and nn.RNN / LSTM / GRU on packed batches, compared with torch 2.13."""
import numpy as np
import pytest

import minitorch as mt
from minitorch.nn.utils import rnn as mrnn

torch = pytest.importorskip("torch")
from torch.nn.utils import rnn as trnn  # noqa: E402


def both(fn):
    """``fn(lib, rnn_utils)`` for torch and minitorch."""
    return fn(torch, trnn), fn(mt, mrnn)


def as_np(t):
    return None if t is None else np.asarray(t.detach().numpy())


@pytest.mark.parametrize("lengths, enforce_sorted, batch_first", [
    ([5, 3, 3, 1], True, False), ([2, 5, 3, 1], False, False), ([1, 3, 2, 3, 1, 2], False, True),
    ([4, 4, 4], False, False),
])
def test_pack_and_pad_match_torch(lengths, enforce_sorted, batch_first):
    rng = np.random.default_rng(1)
    shape = (len(lengths), 5, 2) if batch_first else (5, len(lengths), 2)
    x = rng.standard_normal(shape).astype(np.float32)
    weights = rng.standard_normal((len(lengths), 6, 2) if batch_first else (6, len(lengths), 2))

    def run(lib, r):
        xt = lib.tensor(x, requires_grad=True)
        p = r.pack_padded_sequence(xt, lengths, batch_first=batch_first,
                                   enforce_sorted=enforce_sorted)
        y, out_lengths = r.pad_packed_sequence(p, batch_first=batch_first, padding_value=-2.0,
                                               total_length=6)
        (y * lib.tensor(weights, dtype=lib.float32)).sum().backward()
        return (as_np(p.data), as_np(p.batch_sizes), as_np(p.sorted_indices),
                as_np(p.unsorted_indices), as_np(y), as_np(out_lengths), as_np(xt.grad),
                str(p.batch_sizes.dtype), str(out_lengths.dtype))
    expected, got = both(run)
    for e, g in zip(expected[:7], got[:7]):
        if e is None:
            assert g is None
        else:
            np.testing.assert_array_equal(g, e)
    assert got[7:] == tuple(s.replace("torch", "minitorch") for s in expected[7:])


def test_pack_sequence_unpack_and_unpad_match_torch():
    rng = np.random.default_rng(2)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (2, 4, 1)]

    def run(lib, r):
        ts = [lib.tensor(s) for s in seqs]
        packed = r.pack_sequence(ts, enforce_sorted=False)
        padded, lengths = r.pad_packed_sequence(packed)
        return ([as_np(t) for t in r.unpack_sequence(packed)],
                [as_np(t) for t in r.unpad_sequence(padded, lengths)], as_np(packed.data))
    (t_unpacked, t_unpadded, t_data), (m_unpacked, m_unpadded, m_data) = both(run)
    np.testing.assert_array_equal(m_data, t_data)
    for e, g in zip(t_unpacked + t_unpadded, m_unpacked + m_unpadded):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional, num_layers, with_hx", [
    (False, 1, False), (True, 2, False), (False, 2, True), (True, 1, True)])
def test_recurrent_layers_on_packed_batches_match_torch(kind, bidirectional, num_layers,
                                                        with_hx):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)   # batch_first
    lengths = [3, 6, 1, 4]
    torch.manual_seed(0)   # the same weights whichever tests ran before in this process
    t_model = getattr(torch.nn, kind)(3, 5, num_layers=num_layers, batch_first=True,
                                      bidirectional=bidirectional)
    m_model = getattr(mt.nn, kind)(3, 5, num_layers=num_layers, batch_first=True,
                                   bidirectional=bidirectional)
    m_model.load_state_dict({k: mt.tensor(v.detach().numpy())
                             for k, v in t_model.state_dict().items()})
    states = (num_layers * (2 if bidirectional else 1), 4, 5)
    h0 = rng.standard_normal(states).astype(np.float32)
    c0 = rng.standard_normal(states).astype(np.float32)

    def run(lib, r, model):
        xt = lib.tensor(x, requires_grad=True)
        hx = None
        if with_hx:
            hx = (lib.tensor(h0), lib.tensor(c0)) if kind == "LSTM" else lib.tensor(h0)
        out, hidden = model(r.pack_padded_sequence(xt, lengths, batch_first=True,
                                                   enforce_sorted=False), hx)
        h = hidden[0] if kind == "LSTM" else hidden
        y, _ = r.pad_packed_sequence(out, batch_first=True)
        loss = (y * y).sum() + (h * lib.arange(h.numel(), dtype=lib.float32).reshape(h.shape)).sum()
        if kind == "LSTM":
            loss = loss + hidden[1].sum()
        loss.backward()
        return [as_np(out.data), as_np(y), as_np(h), as_np(xt.grad)] + [
            as_np(p.grad) for p in model.parameters()]
    expected = run(torch, trnn, t_model)
    got = run(mt, mrnn, m_model)
    for i, (e, g) in enumerate(zip(expected, got)):
        # float32 rounding is relative to the terms of a sum: an element of 4e-2 in a gradient
        # of magnitude 200 may differ by a few ulps of 200
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=2e-6 * scale, err_msg=f"output {i}")
    # padding never reaches the final states: a sequence's h_n is its own last step's output
    assert np.allclose(got[2][-1 if not bidirectional else -2][0], got[1][0, 2, :5], atol=1e-6)


def test_sorted_batch_keeps_no_indices_and_lstm_returns_packed():
    x = mt.randn(3, 2, 4)
    p = mrnn.pack_padded_sequence(x, [3, 1])
    assert p.sorted_indices is None and p.unsorted_indices is None
    out, (h, c) = mt.nn.LSTM(4, 2)(p)
    assert isinstance(out, mrnn.PackedSequence) and out.data.shape == (4, 2)
    assert h.shape == c.shape == (1, 2, 2)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: mrnn.pack_padded_sequence(mt.zeros(3, 2, 1), [1, 2]), RuntimeError,
     "must be sorted in decreasing order"),
    (lambda: mrnn.pack_padded_sequence(mt.zeros(3, 2, 1), [2, 0], enforce_sorted=False),
     RuntimeError, "greater than 0"),
    (lambda: mrnn.pack_padded_sequence(mt.zeros(3, 2, 1), [4, 1]), ValueError, "longer"),
    (lambda: mrnn.pack_padded_sequence(mt.zeros(3, 2, 1), [3]), ValueError, "batch of 2"),
    (lambda: mrnn.pad_packed_sequence(mrnn.pack_sequence([mt.zeros(3)]), total_length=2),
     ValueError, "total_length=2"),
])
def test_bad_lengths_raise_one_clear_error(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()
