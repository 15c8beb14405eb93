"""Forward hooks' keyword forms, run as the same program in torch 2.13 and minitorch: prepend,
with_kwargs (pre-hooks replacing args and kwargs, hooks seeing kwargs), always_call when forward
raises, handles (also as context managers) removing every flag; and the outputs agree."""
import numpy as np
import pytest

import minitorch as mt

torch = pytest.importorskip("torch")


def _program(lib):
    """A log of hook calls and the outputs, with ``lib`` as torch."""
    nn = lib.nn
    log = []

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x, factor=1.0, fail=False):
            if fail:
                raise ValueError("forward failed")
            return self.lin(x) * factor

    m = Scale()
    with lib.no_grad():
        m.lin.weight.copy_(lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 10))
        m.lin.bias.fill_(0.5)
    x = lib.ones(4, 3)

    def pre_a(mod, args):
        log.append("pre_a")

    def pre_b(mod, args):
        log.append("pre_b")
        return (args[0] * 2,)

    def pre_kw(mod, args, kwargs):
        log.append(("pre_kw", sorted(kwargs)))
        return args, {**kwargs, "factor": kwargs.get("factor", 1.0) * 3}

    def post(mod, args, output):
        log.append("post")

    def post_kw(mod, args, kwargs, output):
        log.append(("post_kw", sorted(kwargs)))
        return output + 1

    def post_first(mod, args, output):
        log.append("post_first")

    def always(mod, args, output):
        log.append(("always", output is None))

    handles = [m.register_forward_pre_hook(pre_a),
               m.register_forward_pre_hook(pre_b, prepend=True),
               m.register_forward_pre_hook(pre_kw, with_kwargs=True),
               m.register_forward_hook(post),
               m.register_forward_hook(post_kw, with_kwargs=True),
               m.register_forward_hook(post_first, prepend=True)]
    out1 = m(x, factor=0.5)
    log.append("---")
    h_always = m.register_forward_hook(always, always_call=True)
    try:
        m(x, fail=True)
    except ValueError as err:
        log.append(("raised", str(err)))
    log.append("---")
    for h in handles[1:]:
        h.remove()
    h_always.remove()
    out2 = m(x)
    with m.register_forward_hook(lambda mod, a, o: o * 0) as h:
        out3 = m(x)
    out4 = m(x)
    assert len(m._forward_hooks) == 0
    assert not m._forward_hooks_with_kwargs and not m._forward_hooks_always_called
    handles[0].remove()
    assert not m._forward_pre_hooks and not m._forward_pre_hooks_with_kwargs
    return log, [o.detach().numpy() for o in (out1, out2, out3, out4)]


def test_hook_order_kwargs_and_always_call_match_torch():
    t_log, t_out = _program(torch)
    m_log, m_out = _program(mt)
    assert m_log == t_log
    for a, b in zip(m_out, t_out):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_pre_hook_with_kwargs_must_return_a_pair():
    m = mt.nn.Linear(3, 2)
    m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, "
                                           r"new_kwargs\)"):
        m(mt.ones(1, 3))


def test_always_call_hook_error_becomes_a_warning_and_forward_error_propagates():
    m = mt.nn.Linear(3, 2)

    def broken(mod, args, output):
        raise KeyError("hook broke")

    m.register_forward_hook(broken, always_call=True)
    with pytest.warns(UserWarning, match="always_call=True.*hook broke"):
        with pytest.raises(ValueError):
            m(mt.ones(1, 4))


def test_forward_hooks_and_full_backward_hooks_together():
    """The backward-hook wiring stays after prepended user hooks: grads still reach the hook."""
    m = mt.nn.Linear(3, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(go[0].shape))
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,), prepend=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out * 3, with_kwargs=True,
                            prepend=True)
    x = mt.ones(4, 3, requires_grad=True)
    m(x).sum().backward()
    assert seen == [(4, 2)]
    np.testing.assert_allclose(x.grad.numpy(), np.tile(6 * m.weight.detach().numpy().sum(0),
                                                       (4, 1)), rtol=1e-6)
