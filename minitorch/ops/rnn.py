"""The gate arithmetic of one LSTM or GRU step as one autograd node each (forward and backward
vectorised over the batch), so a sequence costs two nodes per step and layer (the
hidden-to-hidden matmul and this) instead of a dozen elementwise ones.

Both take the step's input projection ``gi`` (x W_ih^T + b_ih) and hidden projection ``gh``
(h W_hh^T + b_hh), with torch's gate order: LSTM (i, f, g, o), GRU (r, z, n)."""
import numpy as np

from ..autograd.function import Function

__all__ = ["LSTMGates", "GRUGates"]


def _sigmoid(x):
    # tanh form: no overflow in exp for large |x| (float32), same value to rounding
    return 0.5 * np.tanh(0.5 * x) + 0.5


class LSTMGates(Function):
    """(gi, gh, c) -> (h', c'): c' = sig(f) c + sig(i) tanh(g), h' = sig(o) tanh(c')."""

    node_name = "LstmCellBackward0"

    @staticmethod
    def forward(ctx, gi, gh, c):
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        si, sf, tg, so = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
        c_new = sf * c + si * tg
        tc = np.tanh(c_new)
        ctx.save_for_backward(si, sf, tg, so, c, tc)
        return so * tc, c_new

    @staticmethod
    def backward(ctx, dh, dc_new):
        si, sf, tg, so, c, tc = ctx.saved_tensors
        dc = dc_new + dh * so * (1 - tc * tc)
        d_pre = np.concatenate([dc * tg * si * (1 - si), dc * c * sf * (1 - sf),
                                dc * si * (1 - tg * tg), dh * tc * so * (1 - so)], axis=-1)
        return d_pre, d_pre, dc * sf


class GRUGates(Function):
    """(gi, gh, h) -> h': r = sig(ir + hr), z = sig(iz + hz), n = tanh(in + r hn),
    h' = (1 - z) n + z h."""

    node_name = "GruCellBackward0"

    @staticmethod
    def forward(ctx, gi, gh, h):
        ir, iz, in_ = np.split(gi, 3, axis=-1)
        hr, hz, hn = np.split(gh, 3, axis=-1)
        r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
        n = np.tanh(in_ + r * hn)
        ctx.save_for_backward(r, z, n, hn, h)
        return n + z * (h - n)

    @staticmethod
    def backward(ctx, dh_new):
        r, z, n, hn, h = ctx.saved_tensors
        d_n = dh_new * (1 - z) * (1 - n * n)
        d_r = d_n * hn * r * (1 - r)
        d_z = dh_new * (h - n) * z * (1 - z)
        d_gi = np.concatenate([d_r, d_z, d_n], axis=-1)
        d_gh = np.concatenate([d_r, d_z, d_n * r], axis=-1)
        return d_gi, d_gh, dh_new * z
