"""Run one tensor program in torch and in minitorch and list every way the two runs differ.

A program is Python source, one statement per line, written against a module bound to the name
``lib`` (``torch`` or ``minitorch``). Each line runs on its own: an exception in a line is recorded
and the program goes on (a later line that uses a name the failed line did not bind fails in both
libraries alike). After the last line every tensor bound to a name is compared: shape, dtype,
values (float32 to rounding), ``requires_grad``, ``is_leaf`` and, for leaves, ``grad``. So an
in-place op that should have reached an alias or a view's base shows up in the alias's values.
With ``grad_fn_names=True`` the names of the tensors' ``grad_fn`` are compared too (torch's node
class name against minitorch's ``grad_fn.name()``).
"""
import functools
import warnings

import numpy as np

__all__ = ["run", "compare", "diff_program", "Snapshot", "compiled", "exec_lines"]

# float32 to rounding after a chain of ~10 ops: relative 1e-4, plus an absolute 1e-5 scaled by the
# largest finite magnitude in the array (at least 1), so that a cancellation (a - b with a ~ b,
# x / x - 1, a log-softmax near 0) is not reported as a divergence. Real divergences are gross.
RTOL = 1e-4
ATOL_SCALE = 1e-5


class Snapshot:
    """What one library did: per-line errors, and the final state of every named tensor."""

    def __init__(self, errors, tensors):
        self.errors = errors    # {line number: "ExceptionType: message"}
        self.tensors = tensors  # {name: dict(shape, dtype, values, requires_grad, is_leaf, grad)}


def _is_tensor(lib, value):
    return isinstance(value, lib.Tensor)


def _array(lib, t):
    if lib.__name__ == "torch":
        return t.detach().numpy(force=True).copy()  # (force: torch's lazy ZeroTensor grads)
    return np.array(np.asarray(t.detach()), copy=True)


def _dtype_name(t):
    return str(t.dtype).rsplit(".", 1)[-1]


def _grad_fn_name(lib, t):
    node = t.grad_fn
    if node is None:
        return None
    return type(node).__name__ if lib.__name__ == "torch" else node.name()


def _describe(lib, t):
    grad = None
    is_leaf = t.is_leaf
    if is_leaf and t.grad is not None:
        grad = _array(lib, t.grad)
    return {"shape": tuple(t.shape), "dtype": _dtype_name(t), "values": _array(lib, t),
            "requires_grad": bool(t.requires_grad), "is_leaf": bool(is_leaf), "grad": grad,
            "grad_fn": _grad_fn_name(lib, t)}


@functools.lru_cache(maxsize=4096)
def compiled(line):
    """The code object of one program line (compiling costs more than running most lines)."""
    return compile(line, "<line>", "exec")


def exec_lines(ns, lines):
    """Run each line in namespace ``ns`` on its own; return {line number: the exception}."""
    errors = {}
    for i, line in enumerate(lines):
        try:
            exec(compiled(line), ns)  # noqa: S102 - generated tests
        except Exception as e:  # noqa: BLE001 - any error is data here
            errors[i] = e
    return errors


def run(lib, lines):
    """Execute ``lines`` with ``lib`` bound; return a Snapshot."""
    ns = {"lib": lib}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        errors = {i: f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                  for i, e in exec_lines(ns, lines).items()}
        tensors = {}
        for name, value in ns.items():
            if name != "lib" and _is_tensor(lib, value):
                try:
                    tensors[name] = _describe(lib, value)
                except Exception as e:  # noqa: BLE001 - e.g. torch refuses a stale view's grad_fn
                    tensors[name] = {"error": type(e).__name__}
    return Snapshot(errors, tensors)


def _close(mine, ref):
    if mine.shape != ref.shape:
        return False
    if ref.dtype.kind not in "fc":
        return bool(np.array_equal(mine, ref))
    finite = np.abs(ref[np.isfinite(ref)])
    scale = float(finite.max()) if finite.size else 0.0
    return bool(np.allclose(mine.astype(np.float64), ref.astype(np.float64), rtol=RTOL,
                            atol=ATOL_SCALE * max(scale, 1.0), equal_nan=True))


def compare(ref, mine, grad_fn_names=False):
    """The differences between a torch Snapshot ``ref`` and a minitorch Snapshot ``mine``."""
    out = []
    keys = ("shape", "dtype", "requires_grad", "is_leaf") + (("grad_fn",) if grad_fn_names
                                                              else ())
    for i in sorted(set(ref.errors) | set(mine.errors)):
        if (i in ref.errors) != (i in mine.errors):
            out.append(f"line {i}: torch -> {ref.errors.get(i, 'ok')}; "
                       f"minitorch -> {mine.errors.get(i, 'ok')}")
    for name in sorted(set(ref.tensors) | set(mine.tensors)):
        r, m = ref.tensors.get(name), mine.tensors.get(name)
        if r is None or m is None:
            out.append(f"{name}: a tensor only in {'minitorch' if r is None else 'torch'}")
            continue
        if "error" in r or "error" in m:
            if ("error" in r) != ("error" in m):
                out.append(f"{name}: reading its state raised in "
                           f"{'torch' if 'error' in r else 'minitorch'} only "
                           f"({r.get('error') or m.get('error')})")
            continue
        for key in keys:
            if r[key] != m[key]:
                out.append(f"{name}.{key}: torch {r[key]}, minitorch {m[key]}")
        if r["shape"] == m["shape"] and not _close(m["values"], r["values"]):
            out.append(f"{name} values: torch {r['values'].tolist()}, minitorch "
                       f"{m['values'].tolist()}")
        rg, mg = r["grad"], m["grad"]
        if (rg is None) != (mg is None):
            out.append(f"{name}.grad: torch {'None' if rg is None else 'set'}, minitorch "
                       f"{'None' if mg is None else 'set'}")
        elif rg is not None and not _close(mg, rg):
            out.append(f"{name}.grad: torch {rg.tolist()}, minitorch {mg.tolist()}")
    return out


def diff_program(lines, grad_fn_names=False):
    """Run ``lines`` in both libraries; return the list of differences (empty when they agree)."""
    import torch

    import minitorch

    return compare(run(torch, lines), run(minitorch, lines), grad_fn_names=grad_fn_names)
