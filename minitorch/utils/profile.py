"""Where a training step's time goes: a per-op timer wrapped around minitorch from the outside.

    from minitorch.utils.profile import OpProfiler
    step()                          # warm up first: numba compiles on the first call
    with OpProfiler() as prof:
        for _ in range(3):
            step()
    print(prof.report(steps=3))

While the block runs, every ``Function`` subclass's ``forward`` and ``backward`` is replaced by a
timing wrapper, and inside the ops modules (``minitorch.ops.*``, ``minitorch.nn.functional``,
``minitorch.optim.*``) the kernels module references and ``np.matmul``/``np.dot`` are replaced by
timing proxies; everything is put back on exit. So one run tells, per op type and per input
shape, forward vs backward time, and inside each op how much went to which numba kernel and how
much to BLAS. Numba's own module globals are never touched (a kernel compiled while profiling
still sees the real kernels it calls). ``a @ b`` written as an operator is not seen as BLAS: it
counts as the op's own time. Not thread-safe: profile one thread at a time.
"""
import sys
import time
from collections import defaultdict

import numpy as np

from ..autograd.function import Function

__all__ = ["OpProfiler", "Stat"]

_BLAS_NAMES = ("matmul", "dot")
_PROFILED_PREFIXES = ("minitorch.ops.", "minitorch.nn.functional", "minitorch.optim.")


def _all_subclasses(cls):
    """Every subclass of ``cls``, depth-first, each once (iterative: no recursion limit)."""
    seen, stack, out = set(), list(cls.__subclasses__()), []
    while stack:
        sub = stack.pop()
        if sub not in seen:
            seen.add(sub)
            out.append(sub)
            stack.extend(sub.__subclasses__())
    return out


def _shapes(arrays):
    return tuple(a.shape for a in arrays if isinstance(a, np.ndarray))


def _is_kernel(obj) -> bool:
    """A numba dispatcher (``@njit`` function): it has ``py_func`` and compiled ``overloads``."""
    return hasattr(obj, "py_func") and hasattr(obj, "overloads")


class Stat:
    """Calls and seconds of one timed thing; ``fastest`` call kept, because on a shared machine
    ``floor = fastest * calls`` estimates the uncontended time better than the sum does."""

    __slots__ = ("calls", "seconds", "fastest")

    def __init__(self):
        self.calls, self.seconds, self.fastest = 0, 0.0, float("inf")

    def add(self, seconds: float, calls: int = 1, fastest: float = None) -> None:
        self.calls += calls
        self.seconds += seconds
        self.fastest = min(self.fastest, seconds if fastest is None else fastest)

    @property
    def floor(self) -> float:
        return self.fastest * self.calls if self.calls else 0.0

    def __repr__(self):
        return f"Stat(calls={self.calls}, seconds={self.seconds:.6g}, fastest={self.fastest:.6g})"


class _Proxy:
    """Stands in for a module: attribute reads go to the module, except the timed names."""

    def __init__(self, module, timed):
        self._module = module
        self._timed = timed

    def __getattr__(self, name):
        timed = self._timed.get(name)
        return timed if timed is not None else getattr(self._module, name)


class OpProfiler:
    """Context manager that times Functions (self time: nested Functions are not counted twice),
    and the kernels and BLAS calls made inside them. See the module docstring."""

    def __init__(self):
        self.ops = defaultdict(Stat)      # (op, phase, input shapes) -> Stat (self time)
        self.kernels = defaultdict(Stat)  # (op, phase, kernel or BLAS call, op shapes) -> Stat
        self._stack = []                  # [op, phase, shapes, child seconds] per running op
        self._restore = []                            # (owner, name, original or _ABSENT)

    # ---------------------------------------------------------------- installing the wrappers
    def __enter__(self):
        # resolve every class's methods before patching any, so a subclass that inherits its
        # forward wraps the original and not its parent's wrapper
        classes = [(cls, cls.forward, cls.backward) for cls in _all_subclasses(Function)]
        for cls, forward, backward in classes:
            self._patch(cls, "forward", staticmethod(self._wrap_forward(cls.__name__, forward)))
            self._patch(cls, "backward", staticmethod(self._wrap_backward(cls.__name__, backward)))
        for name, module in list(sys.modules.items()):
            if module is not None and name.startswith(_PROFILED_PREFIXES):
                self._patch_module(module)
        return self

    def __exit__(self, *exc):
        for owner, name, original in reversed(self._restore):
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._restore.clear()
        return False

    def _patch(self, owner, name, value):
        self._restore.append((owner, name, owner.__dict__.get(name, _ABSENT)
                              if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, value)

    def _patch_module(self, module):
        for name, value in list(vars(module).items()):
            if value is np:
                timed = {n: self._wrap_call(getattr(np, n), "BLAS " + n) for n in _BLAS_NAMES}
                self._patch(module, name, _Proxy(np, timed))
            elif getattr(value, "__name__", "") == "minitorch.kernels.gemm":
                # minitorch's threaded products: BLAS calls, counted as such
                self._patch(module, name, _Proxy(value, {"matmul": self._wrap_call(
                    value.matmul, "BLAS matmul")}))
            elif getattr(value, "__name__", "").startswith("minitorch.kernels."):
                timed = {k: self._wrap_call(v, k) for k, v in vars(value).items() if _is_kernel(v)}
                self._patch(module, name, _Proxy(value, timed))
            elif _is_kernel(value):
                self._patch(module, name, self._wrap_call(value, name))

    # ---------------------------------------------------------------- the wrappers
    def _wrap_forward(self, op, forward):

        def timed_forward(ctx, *args, **kwargs):
            key = (op, "forward", _shapes(args))
            # remembered for backward; popped there before the node frees its attributes
            ctx.__dict__["_profile_shapes"] = key[2]
            return self._run(key, forward, ctx, *args, **kwargs)
        return timed_forward

    def _wrap_backward(self, op, backward):

        def timed_backward(ctx, *grads):
            shapes = ctx.__dict__.pop("_profile_shapes", _shapes(grads))
            return self._run((op, "backward", shapes), backward, ctx, *grads)
        return timed_backward

    def _run(self, key, fn, *args, **kwargs):
        frame = [key[0], key[1], key[2], 0.0]
        self._stack.append(frame)
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - t0
            self._stack.pop()
            self.ops[key].add(elapsed - frame[3])
            if self._stack:
                self._stack[-1][3] += elapsed

    def _wrap_call(self, fn, label):
        def timed_call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                where = self._stack[-1][:3] if self._stack else ("(outside ops)", "-", ())
                self.kernels[(*where[:2], label, where[2])].add(time.perf_counter() - t0)
        return timed_call

    # ---------------------------------------------------------------- summaries
    def by_op(self):
        """{(op, phase): Stat} summed over input shapes (``floor`` then sums each shape's)."""
        out = defaultdict(_FloorSum)
        for (op, phase, _), stat in self.ops.items():
            out[(op, phase)].add_stat(stat)
        return dict(out)

    def by_kernel(self):
        """{(op, phase, kernel): Stat} summed over the enclosing op's input shapes."""
        out = defaultdict(_FloorSum)
        for (op, phase, kernel, _), stat in self.kernels.items():
            out[(op, phase, kernel)].add_stat(stat)
        return dict(out)

    def total_seconds(self) -> float:
        return sum(stat.seconds for stat in self.ops.values())

    def report(self, steps: int = 1, step_seconds: float = None, top: int = 15) -> str:
        """Three text tables, ms per step: per op type, per kernel inside ops, slowest shapes.
        "floor" columns: each thing's fastest call times its calls (see ``Stat``)."""
        return "\n\n".join([self._op_table(steps, step_seconds), self._kernel_table(steps),
                            self._shape_table(steps, top)])

    def _op_table(self, steps, step_seconds):
        rows = defaultdict(lambda: [0.0, 0.0, 0.0])
        for (op, phase), stat in self.by_op().items():
            rows[op][0 if phase == "forward" else 1] += stat.seconds
            rows[op][2] += stat.floor
        total = step_seconds * steps if step_seconds else self.total_seconds()
        ms = (lambda sec: f"{sec * 1e3 / steps:.1f}")
        lines = ["| op | forward ms | backward ms | total ms | % of step | floor ms |",
                 "|---|---|---|---|---|---|"]
        for op, (f, b, floor) in sorted(rows.items(), key=lambda kv: -kv[1][0] - kv[1][1]):
            lines.append(f"| {op} | {ms(f)} | {ms(b)} | {ms(f + b)} | "
                         f"{100 * (f + b) / total:.1f} | {ms(floor)} |")
        inside = self.total_seconds()
        if step_seconds:
            rest = step_seconds * steps - inside
            lines.append(f"| (outside Functions: engine, optimizer, Python) | | | {ms(rest)} | "
                         f"{100 * rest / total:.1f} | |")
        floor = sum(stat.floor for stat in self.ops.values())
        lines.append(f"| **all Functions** | | | {ms(inside)} | {100 * inside / total:.1f} | "
                     f"{ms(floor)} |")
        return "\n".join(lines)

    def _kernel_table(self, steps):
        lines = ["| op | phase | kernel / BLAS call | calls/step | ms/step | floor ms |",
                 "|---|---|---|---|---|---|"]
        for (op, phase, k), st in sorted(self.by_kernel().items(), key=lambda kv: -kv[1].seconds):
            lines.append(f"| {op} | {phase} | {k} | {st.calls / steps:g} | "
                         f"{st.seconds * 1e3 / steps:.1f} | {st.floor * 1e3 / steps:.1f} |")
        return "\n".join(lines)

    def _shape_table(self, steps, top):
        blas, kernels = defaultdict(float), defaultdict(float)  # floors inside each op call
        for (op, phase, kernel, shapes), st in self.kernels.items():
            (blas if kernel.startswith("BLAS") else kernels)[(op, phase, shapes)] += st.floor
        lines = ["| op | phase | input shapes | calls/step | ms/step | floor ms | of which BLAS "
                 "| of which kernels |", "|---|---|---|---|---|---|---|---|"]
        ms = (lambda sec: f"{sec * 1e3 / steps:.1f}")
        for key, st in sorted(self.ops.items(), key=lambda kv: -kv[1].floor)[:top]:
            shown = ", ".join("x".join(map(str, s)) for s in key[2])
            lines.append(f"| {key[0]} | {key[1]} | {shown} | {st.calls / steps:g} | "
                         f"{ms(st.seconds)} | {ms(st.floor)} | {ms(blas[key])} | "
                         f"{ms(kernels[key])} |")
        return "\n".join(lines)


class _FloorSum(Stat):
    """A Stat summing other Stats: calls and seconds add up, and so do their floors."""

    __slots__ = ("_floor",)

    def __init__(self):
        super().__init__()
        self._floor = 0.0

    def add_stat(self, stat: Stat) -> None:
        self.add(stat.seconds, stat.calls, stat.fastest)
        self._floor += stat.floor

    @property
    def floor(self) -> float:
        return self._floor


_ABSENT = object()
