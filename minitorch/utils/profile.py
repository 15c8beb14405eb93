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

__all__ = ["OpProfiler"]

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
        self.ops = defaultdict(lambda: [0, 0.0])      # (op, phase, shapes) -> [calls, seconds]
        self.kernels = defaultdict(lambda: [0, 0.0])  # (op, phase, kernel) -> [calls, seconds]
        self._stack = []                              # [op, phase, child seconds] per frame
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
        frame = [key[0], key[1], 0.0]
        self._stack.append(frame)
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - t0
            self._stack.pop()
            rec = self.ops[key]
            rec[0] += 1
            rec[1] += elapsed - frame[2]
            if self._stack:
                self._stack[-1][2] += elapsed

    def _wrap_call(self, fn, label):
        def timed_call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                op, phase = self._stack[-1][:2] if self._stack else ("(outside ops)", "-")
                rec = self.kernels[(op, phase, label)]
                rec[0] += 1
                rec[1] += time.perf_counter() - t0
        return timed_call

    # ---------------------------------------------------------------- summaries
    def by_op(self):
        """{(op, phase): [calls, seconds]} summed over shapes."""
        out = defaultdict(lambda: [0, 0.0])
        for (op, phase, _), (calls, secs) in self.ops.items():
            out[(op, phase)][0] += calls
            out[(op, phase)][1] += secs
        return dict(out)

    def total_seconds(self) -> float:
        return sum(secs for _, secs in self.ops.values())

    def report(self, steps: int = 1, step_seconds: float = None, top: int = 15) -> str:
        """Three text tables, ms per step: per op type, per kernel inside ops, slowest shapes."""
        return "\n\n".join([self._op_table(steps, step_seconds), self._kernel_table(steps),
                            self._shape_table(steps, top)])

    def _op_table(self, steps, step_seconds):
        rows = defaultdict(lambda: [0.0, 0.0])
        for (op, phase), (_, secs) in self.by_op().items():
            rows[op][0 if phase == "forward" else 1] += secs
        total = step_seconds * steps if step_seconds else self.total_seconds()
        lines = ["| op | forward ms | backward ms | total ms | % of step |", "|---|---|---|---|---|"]
        for op, (f, b) in sorted(rows.items(), key=lambda kv: -sum(kv[1])):
            lines.append(f"| {op} | {f * 1e3 / steps:.1f} | {b * 1e3 / steps:.1f} | "
                         f"{(f + b) * 1e3 / steps:.1f} | {100 * (f + b) / total:.1f} |")
        inside = self.total_seconds()
        if step_seconds:
            rest = step_seconds * steps - inside
            lines.append(f"| (outside Functions: engine, optimizer, Python) | | | "
                         f"{rest * 1e3 / steps:.1f} | {100 * rest / total:.1f} |")
        lines.append(f"| **all Functions** | | | {inside * 1e3 / steps:.1f} | "
                     f"{100 * inside / total:.1f} |")
        return "\n".join(lines)

    def _kernel_table(self, steps):
        lines = ["| op | phase | kernel / BLAS call | calls/step | ms/step |", "|---|---|---|---|---|"]
        for (op, phase, k), (calls, secs) in sorted(self.kernels.items(), key=lambda kv: -kv[1][1]):
            lines.append(f"| {op} | {phase} | {k} | {calls / steps:g} | {secs * 1e3 / steps:.1f} |")
        return "\n".join(lines)

    def _shape_table(self, steps, top):
        lines = ["| op | phase | input shapes | ms/step |", "|---|---|---|---|"]
        ranked = sorted(self.ops.items(), key=lambda kv: -kv[1][1])[:top]
        for (op, phase, shapes), (_, secs) in ranked:
            shown = ", ".join("x".join(map(str, s)) for s in shapes)
            lines.append(f"| {op} | {phase} | {shown} | {secs * 1e3 / steps:.1f} |")
        return "\n".join(lines)


_ABSENT = object()
