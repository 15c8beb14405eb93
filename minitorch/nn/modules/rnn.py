"""Recurrent layers with PyTorch's parameters, shapes and equations: ``nn.RNN`` (tanh or relu),
``nn.LSTM`` (gates i, f, g, o), ``nn.GRU`` (gates r, z, n), and their one-step ``...Cell``s.

Parameter names and shapes are torch's (``weight_ih_l0`` [gates * hidden, input],
``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse`` for the backward direction),
so torch state dicts load unchanged. The input projection of a whole sequence is one matmul per
layer; only the hidden-to-hidden product and the gates are stepped through time (the recurrence
is sequential, in torch's CPU kernels too). A ``PackedSequence`` input runs on a shrinking batch
(``rnn_packed.py``).
"""
import math

import numpy as np

from minitorch import _ops_shape
from minitorch.nn import functional as F
from minitorch.nn import init
from minitorch.nn.module import Module
from minitorch.nn.parameter import Parameter
from minitorch.nn.utils.rnn import PackedSequence
from minitorch.ops.rnn import GRUGates, LSTMGates
from minitorch.tensor import Tensor

from .rnn_packed import packed_forward

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _cell(mode, gi, h, c, w_hh, b_hh):
    """One step: ``gi`` is the input projection (with bias_ih) of this step; (h', c')."""
    gh = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        return LSTMGates.apply(gi, gh, c)
    if mode == "GRU":
        return GRUGates.apply(gi, gh, h), None
    pre = gi + gh
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


def _check_int(cls, name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{cls}: {name} must be an int >= {low}, got {value!r}")


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters per layer and direction and the loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        _check_int(cls, "input_size", input_size, 0)
        _check_int(cls, "hidden_size", hidden_size, 1)
        _check_int(cls, "num_layers", num_layers, 1)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if proj_size:
            raise NotImplementedError(f"{cls}: proj_size is not supported by minitorch")
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or np.float32)
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, self.hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(np.empty(shape, dtype=np_dtype)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """torch's cuDNN weight compaction: nothing to do on the CPU."""

    @property
    def all_weights(self):
        per = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix))

    def _check_input(self, input):
        cls = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cls}: input must be a Tensor or a PackedSequence, got "
                            f"{type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{cls}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _initial(self, hx, batch, input, what):
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.hidden_size)
        if hx is None:
            return input.new_zeros(expected)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")
        return hx

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return packed_forward(self, input, hx)
        self._check_input(input)
        unbatched = input.ndim == 2
        lstm = self.mode == "LSTM"
        if unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        h0, c0 = self._initial_states(hx, input.shape[1], input)
        output, hidden, cell = self._layers(input, h0, c0, self._run_direction)
        if unbatched:
            output, hidden = output.squeeze(1), hidden.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not lstm:
            return output, hidden
        return output, (hidden, cell.squeeze(1) if unbatched else cell)

    def _initial_states(self, hx, batch, like):
        """``(h0, c0)`` from ``hx`` (checked) or zeros; ``c0`` is None unless LSTM."""
        lstm = self.mode == "LSTM"
        if lstm and hx is not None and (not isinstance(hx, tuple) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        h0 = self._initial(hx[0] if lstm and hx is not None else hx, batch, like,
                           "hidden[0]" if lstm else "hidden")
        if not lstm:
            return h0, None
        if hx is not None:
            return h0, self._initial(hx[1], batch, like, "hidden[1]")
        return h0, like.new_zeros(h0.shape)

    def _layers(self, layer_input, h0, c0, run):
        """Every layer and direction through ``run(x, h, c, weights, reverse)``: the last layer's
        output, and the stacked final hidden (and cell) states."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, h, c = run(layer_input, h0[k], None if c0 is None else c0[k],
                                self._weights(layer, direction), direction)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outs[0] if directions == 1 else _cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return layer_input, _stack(h_n), (None if c0 is None else _stack(c_n))

    def _run_direction(self, x, h, c, weights, reverse):
        w_ih, w_hh, b_ih, b_hh = weights
        gates_in = F.linear(x, w_ih, b_ih)    # every step's input projection in one matmul
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outputs = [None] * x.shape[0]
        for t in steps:
            h, c = _cell(self.mode, gates_in[t], h, c, w_hh, b_hh)
            outputs[t] = h
        return _stack(outputs), h, c

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"   # torch leaves nonlinearity out
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


_stack, _cat = _ops_shape.stack, _ops_shape.cat


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory; forward returns ``output, (h_n, c_n)``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit; forward returns ``output, h_n``."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


class _CellBase(Module):
    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        _check_int(cls, "input_size", input_size, 0)
        _check_int(cls, "hidden_size", hidden_size, 1)
        self.mode, self.input_size, self.hidden_size, self.bias = (mode, int(input_size),
                                                                   int(hidden_size), bias)
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or np.float32)
        gate_size = _GATES[mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, self.input_size), dtype=np_dtype))
        self.weight_hh = Parameter(np.empty((gate_size, self.hidden_size), dtype=np_dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((gate_size,), dtype=np_dtype))
            self.bias_hh = Parameter(np.empty((gate_size,), dtype=np_dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        RNNBase.reset_parameters(self)

    def _step(self, input, h, c):
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input of shape (batch, "
                             f"{self.input_size}) or ({self.input_size},), got "
                             f"{tuple(input.shape)}")
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)
        if h is None:
            h = input.new_zeros((input.shape[0], self.hidden_size))
        elif unbatched:
            h = h.unsqueeze(0)
        if self.mode == "LSTM":
            c = input.new_zeros(h.shape) if c is None else (c.unsqueeze(0) if unbatched else c)
        h, c = _cell(self.mode, F.linear(input, self.weight_ih, self.bias_ih), h, c,
                     self.weight_hh, self.bias_hh)
        if unbatched:
            h = h.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return h, c

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s


class RNNCell(_CellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, bias, **kwargs)

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]


class LSTMCell(_CellBase):
    def __init__(self, input_size, hidden_size, bias=True, **kwargs):
        super().__init__("LSTM", input_size, hidden_size, bias, **kwargs)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._step(input, h, c)


class GRUCell(_CellBase):
    def __init__(self, input_size, hidden_size, bias=True, **kwargs):
        super().__init__("GRU", input_size, hidden_size, bias, **kwargs)

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]
