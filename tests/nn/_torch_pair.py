"""Helpers for comparing a minitorch module with the same torch module: build both from one
constructor text, load torch's state dict into ours, run both, compare outputs and gradients."""
import numpy as np

import minitorch as mt
from minitorch import nn as mnn


def build(torch, text):
    """(torch module, minitorch module) from the same constructor text, torch's weights in both."""
    t_mod = eval(text, {"nn": torch.nn, "F": torch.nn.functional})
    m_mod = eval(text, {"nn": mnn, "F": mt.nn.functional})
    sd = {k: v.detach().numpy().copy() for k, v in t_mod.state_dict().items()}
    assert list(sd) == list(m_mod.state_dict()), (list(sd), list(m_mod.state_dict()))
    m_mod.load_state_dict({k: mt.tensor(v) for k, v in sd.items()})
    return t_mod, m_mod


def inputs(torch, rng, shapes, grad=True):
    """Pairs (torch tensor, minitorch tensor) of the same float32 values."""
    pairs = []
    for shape in shapes:
        a = rng.standard_normal(shape).astype(np.float32)
        pairs.append((torch.tensor(a, requires_grad=grad), mt.tensor(a, requires_grad=grad)))
    return pairs


def to_np(t):
    return None if t is None else t.detach().numpy()


def assert_close(m_value, t_value, atol=1e-5, rtol=1e-4, what=""):
    if t_value is None:
        assert m_value is None, what
        return
    m_arr, t_arr = to_np(m_value), to_np(t_value)
    assert m_arr.shape == t_arr.shape, (what, m_arr.shape, t_arr.shape)
    np.testing.assert_allclose(m_arr, t_arr, atol=atol, rtol=rtol, err_msg=what)


def backward_and_compare(torch, t_mod, m_mod, t_out, m_out, pairs, atol=1e-5):
    """Backprop the same random cotangent through both outputs; compare the gradients of every
    input pair and of every parameter."""
    g = np.random.default_rng(7).standard_normal(tuple(t_out.shape)).astype(np.float32)
    t_out.backward(torch.tensor(g))
    m_out.backward(mt.tensor(g))
    for i, (t_in, m_in) in enumerate(pairs):
        if t_in.requires_grad:
            assert_close(m_in.grad, t_in.grad, atol=atol, what=f"input {i} grad")
    t_params = dict(t_mod.named_parameters())
    for name, p in m_mod.named_parameters():
        assert_close(p.grad, t_params[name].grad, atol=atol, what=f"{name}.grad")
