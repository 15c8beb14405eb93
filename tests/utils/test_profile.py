"""OpProfiler: times Functions and the kernels/BLAS calls inside them, and leaves no trace."""
import numpy as np
import pytest

import minitorch as mt
import minitorch.nn.functional as F
import minitorch.ops.conv as conv_op
from minitorch.autograd.function import Function
from minitorch.ops.conv import Convolution
from minitorch.utils import profile
from minitorch.utils.profile import OpProfiler


class FakeClock:
    """perf_counter that only moves when a test function says so: exact, load-independent."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


class Inner(Function):
    @staticmethod
    def forward(ctx, x):
        clock.now += 5.0
        return x * 2

    @staticmethod
    def backward(ctx, g):
        clock.now += 7.0
        return g * 2


class Outer(Function):
    @staticmethod
    def forward(ctx, x):
        clock.now += 1.0
        y = Inner.apply(mt.Tensor(x)).detach().numpy()  # a Function called inside another one
        clock.now += 1.0
        return y


class Derived(Inner):
    pass


clock = FakeClock()


def _conv_step():
    # one image: its whole-batch passes run on this thread (a batch's pipelined slices run on
    # the product threads too, which the profiler does not follow)
    x = mt.tensor(np.random.default_rng(0).standard_normal((1, 3, 8, 8), dtype=np.float32),
                  requires_grad=True)
    w = mt.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()


def test_nested_functions_are_timed_by_self_time(monkeypatch):
    monkeypatch.setattr(profile, "time", clock)
    with OpProfiler() as prof:
        Outer.apply(mt.tensor([1.0, 2.0]))
    ops = prof.by_op()
    assert (ops[("Inner", "forward")].calls, ops[("Inner", "forward")].seconds) == (1, 5.0)
    assert ops[("Outer", "forward")].seconds == 2.0  # not 7: Inner's time is not counted twice
    assert prof.total_seconds() == 7.0


def test_backward_is_keyed_by_the_forward_input_shapes(monkeypatch):
    monkeypatch.setattr(profile, "time", clock)
    x = mt.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    with OpProfiler() as prof:
        Inner.apply(x).sum().backward()
    assert prof.ops[("Inner", "backward", ((2, 3),))].seconds == 7.0
    assert prof.ops[("Inner", "forward", ((2, 3),))].seconds == 5.0


def test_conv_kernels_and_blas_are_attributed_to_the_conv_phase():
    _conv_step()  # compile outside the profiled block
    with OpProfiler() as prof:
        _conv_step()
    kernels = set(prof.by_kernel())
    assert ("Convolution", "forward", "im2col") in kernels
    assert ("Convolution", "forward", "BLAS matmul") in kernels
    assert ("Convolution", "backward", "col2im") in kernels
    assert prof.ops[("Convolution", "forward", ((1, 3, 8, 8), (4, 3, 3, 3)))].calls == 1
    report = prof.report(steps=1, step_seconds=prof.total_seconds() * 2)
    assert "| Convolution |" in report and "outside Functions" in report
    assert "of which BLAS" in report


def test_everything_is_restored_even_when_the_block_raises():
    forward, backward = Convolution.__dict__["forward"], Convolution.__dict__["backward"]
    np_before, kernels_before = conv_op.np, conv_op.K
    with pytest.raises(ZeroDivisionError):
        with OpProfiler():
            assert conv_op.np is not np_before  # patched while inside
            1 / 0
    assert Convolution.__dict__["forward"] is forward
    assert Convolution.__dict__["backward"] is backward
    assert conv_op.np is np_before and conv_op.K is kernels_before
    assert Outer.forward.__name__ == "forward"  # the original, not the timing wrapper
    assert "forward" not in Derived.__dict__  # an inherited method is not left behind as own


def test_a_subclass_inheriting_forward_is_timed_under_its_own_name(monkeypatch):
    monkeypatch.setattr(profile, "time", clock)
    with OpProfiler() as prof:
        Derived.apply(mt.tensor([1.0]))
    ops = prof.by_op()
    assert list(ops) == [("Derived", "forward")]  # once, not also as Inner
    assert ops[("Derived", "forward")].seconds == 5.0


def test_floor_is_the_fastest_call_times_the_calls_summed_over_shapes(monkeypatch):
    monkeypatch.setattr(profile, "time", clock)
    with OpProfiler() as prof:
        for n in (1, 1, 2):  # two shapes; the same cost per call, 5 s
            Inner.apply(mt.tensor(np.ones(n)))
    by_shape = prof.ops[("Inner", "forward", ((1,),))]
    assert (by_shape.calls, by_shape.floor) == (2, 10.0)
    assert prof.by_op()[("Inner", "forward")].floor == 15.0
    assert "| Inner | 5000.0 | 0.0 | 5000.0 | 100.0 | 5000.0 |" in prof.report(steps=3)  # ms/step


def test_results_are_unchanged_by_profiling():
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6), dtype=np.float32)
    w = np.random.default_rng(2).standard_normal((5, 3, 3, 3), dtype=np.float32)
    plain = F.conv2d(mt.tensor(x), mt.tensor(w), padding=1).numpy()
    with OpProfiler():
        profiled = F.conv2d(mt.tensor(x), mt.tensor(w), padding=1).numpy()
    np.testing.assert_array_equal(plain, profiled)
