"""``nn.RNN`` / ``LSTM`` / ``GRU`` on a ``PackedSequence``: each step runs only the sequences
still going (the first ``batch_sizes[t]`` rows of the sorted batch), so a sequence's final hidden
state is the one after its own last step, and the padding is never computed on. The reverse
direction walks the steps backwards on a growing batch, each sequence starting at its own end.
As torch, ``hx`` and the final states are in the caller's batch order (``sorted_indices``)."""
import numpy as np

from minitorch import _ops_shape
from minitorch.nn import functional as F
from minitorch.nn.utils.rnn import PackedSequence

__all__ = ["packed_forward"]


def packed_forward(rnn, packed, hx):
    """``rnn(packed, hx)``: ``(PackedSequence output, h_n)`` (``(h_n, c_n)`` for an LSTM)."""
    data = packed.data
    if data.ndim != 2 or data.shape[-1] != rnn.input_size:
        raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                           f"{rnn.input_size}, got {data.shape[-1]}")
    sizes = [int(n) for n in np.asarray(packed.batch_sizes._data)]
    lstm = rnn.mode == "LSTM"
    order, back = packed.sorted_indices, packed.unsorted_indices
    if hx is not None and order is not None:   # hx comes in the caller's order
        hx = tuple(h.index_select(1, order) for h in hx) if lstm and isinstance(hx, tuple) \
            else hx.index_select(1, order)
    h0, c0 = rnn._initial_states(hx, sizes[0] if sizes else 0, data)

    def run(x, h, c, weights, reverse):
        return _run_packed_direction(rnn.mode, x, sizes, h, c, weights, reverse)

    output, hidden, cell = rnn._layers(data, h0, c0, run)
    if back is not None:
        hidden = hidden.index_select(1, back)
        cell = None if cell is None else cell.index_select(1, back)
    result = PackedSequence(output, packed.batch_sizes, order, back)
    return (result, (hidden, cell)) if lstm else (result, hidden)


def _run_packed_direction(mode, x, sizes, h, c, weights, reverse):
    from .rnn import _cell
    w_ih, w_hh, b_ih, b_hh = weights
    gates_in = F.linear(x, w_ih, b_ih)          # every step's input projection in one matmul
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int) if sizes else []
    outputs = [None] * len(sizes)
    for t in (range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))):
        n, start = sizes[t], starts[t]
        whole = n == h.shape[0]
        h_step, c_step = _cell(mode, gates_in[start:start + n], h if whole else h[:n],
                               None if c is None else (c if whole else c[:n]), w_hh, b_hh)
        outputs[t] = h_step
        # rows past n are done (forward) or not started (reverse): they keep their state
        h = h_step if whole else _ops_shape.cat([h_step, h[n:]], 0)
        if c is not None:
            c = c_step if whole else _ops_shape.cat([c_step, c[n:]], 0)
    return _ops_shape.cat(outputs, 0), h, c
