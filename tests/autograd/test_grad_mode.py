"""no_grad / enable_grad / set_grad_enabled: thread-local, nestable, exception-safe."""
import threading

import pytest

import minitorch as mt


def test_no_grad_is_thread_local():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def holder():
        with mt.no_grad():
            inside.set()
            release.wait(5)
            seen["holder"] = mt.is_grad_enabled()

    def other():
        inside.wait(5)
        x = mt.tensor([1.0], requires_grad=True)
        seen["other"] = (mt.is_grad_enabled(), (x * 2).requires_grad)
        release.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"holder": False, "other": (True, True)}
    assert mt.is_grad_enabled()


def test_nesting_restores_each_level():
    with mt.no_grad():
        assert not mt.is_grad_enabled()
        with mt.enable_grad():
            assert mt.is_grad_enabled()
            with mt.set_grad_enabled(False):
                assert not mt.is_grad_enabled()
            assert mt.is_grad_enabled()
        assert not mt.is_grad_enabled()
    assert mt.is_grad_enabled()


def test_exception_restores_mode():
    with pytest.raises(KeyError):
        with mt.no_grad():
            raise KeyError("boom")
    assert mt.is_grad_enabled()

    @mt.no_grad()
    def fails():
        raise ValueError("x")

    with pytest.raises(ValueError):
        fails()
    assert mt.is_grad_enabled()


def test_decorators_apply_only_inside_the_call():
    x = mt.tensor([1.0], requires_grad=True)

    @mt.enable_grad()
    def grad_inside():
        return x * 2

    @mt.set_grad_enabled(False)
    def no_grad_inside():
        return x * 2

    assert mt.is_grad_enabled()  # building the decorator did not switch the mode
    with mt.no_grad():
        assert grad_inside().requires_grad
    assert not no_grad_inside().requires_grad
    assert mt.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call():
    mt.set_grad_enabled(False)
    try:
        assert not mt.is_grad_enabled()
    finally:
        mt.set_grad_enabled(True)
    assert mt.is_grad_enabled()


def test_no_grad_records_nothing():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with mt.no_grad():
        y = (x * x).sum()
    assert not y.requires_grad and y.grad_fn is None
