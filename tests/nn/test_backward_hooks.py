"""Module.register_full_backward_hook / register_full_backward_pre_hook against torch 2.13."""
import numpy as np
import pytest

import minitorch as mt
from minitorch import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4)).astype(np.float32)
X = RNG.standard_normal((2, 4)).astype(np.float32)


def _run(lib, x_requires_grad, rescale):
    """Hook log, x.grad and weight.grad of one Linear with both kinds of hook on it."""
    lin = lib.nn.Linear(4, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.from_numpy(W))
        lin.bias.zero_()
    log = []

    def hook(module, grad_input, grad_output):
        log.append(("hook", [None if g is None else g.detach().numpy().copy() for g in grad_input],
                    [g.detach().numpy().copy() for g in grad_output]))
        if rescale and grad_input[0] is not None:
            return (grad_input[0] * 2,)
        return None

    def pre_hook(module, grad_output):
        log.append(("pre", [g.detach().numpy().copy() for g in grad_output]))
        return (grad_output[0] * 3,) if rescale else None

    lin.register_full_backward_hook(hook)
    lin.register_full_backward_pre_hook(pre_hook)
    x = lib.from_numpy(X.copy()).requires_grad_(x_requires_grad)
    lin(x).pow(2).sum().backward()
    return log, None if x.grad is None else x.grad.numpy(), lin.weight.grad.numpy()


def _same(a, b):
    if a is None or b is None:
        assert a is None and b is None
        return
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
        return
    if isinstance(a, str):
        assert a == b
        return
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x_requires_grad", [True, False])
@pytest.mark.parametrize("rescale", [False, True])
def test_backward_hooks_see_and_replace_gradients_as_torch(x_requires_grad, rescale):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns when no input requires grad
        expected = _run(torch, x_requires_grad, rescale)
    _same(_run(mt, x_requires_grad, rescale), expected)


def test_removed_backward_hook_does_not_run_and_forward_hooks_stay_ordered():
    lin = nn.Linear(2, 2)
    calls = []
    handle = lin.register_full_backward_hook(lambda m, gi, go: calls.append("backward"))
    lin.register_forward_hook(lambda m, a, out: calls.append(type(out.grad_fn).__name__))
    x = mt.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    # the user's forward hook sees the module's own output, not the hook wiring's identity
    assert len(calls) == 2 and calls[1] == "backward"
    assert calls[0] != "BackwardHookFunctionBackward"
    out = lin(x)
    assert out.grad_fn.name() == "BackwardHookFunctionBackward"   # as torch's
    handle.remove()
    calls.clear()
    out = lin(x)
    out.sum().backward()
    assert len(calls) == 1 and out.grad_fn.name() != "BackwardHookFunctionBackward"


def test_backward_hook_result_of_wrong_length_is_a_runtime_error():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="backward hook of Linear returned 2 input gradients"):
        lin(mt.ones(1, 2, requires_grad=True)).sum().backward()


def test_module_outputs_under_no_grad_are_not_wrapped():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    with mt.no_grad():
        out = lin(mt.ones(1, 2))
    assert out.grad_fn is None and not out.requires_grad
