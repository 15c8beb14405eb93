"""Seeded random tensor programs for the differential tester.

``generate(seed, families)`` writes a program line by line. Each candidate line is run in torch at
once, so the generator knows every variable's shape, dtype and flags from torch itself and picks
operands that fit (broadcastable shapes, a valid dim). A candidate torch rejects is kept only now
and then (then the test checks minitorch rejects it too) and otherwise dropped. The program ends
with a weighted sum of some float results and ``loss.backward()``, so every leaf's gradient is
compared.

Families group the ops by owner: "core" (arithmetic, maths, comparisons, reductions, matmul,
softmax, where/clamp/maximum, promotion with Python scalars and 0-d tensors) and "views"
(shape ops and indexing read-only), "inplace" (in-place ops, augmented assignment, views written
through, no_grad blocks), "math" (issue 12's functions and methods: programs_math.py), "index"
(shape, indexing, sorting and linear algebra: programs_index.py), "nn" (the nn.functional
entries: programs_nn.py), "higher" (create_graph=True and backward again: programs_higher.py).
"""
import random
import warnings

from .harness import compiled
from .programs_math import MathLines

__all__ = ["generate", "FAMILIES"]

FAMILIES = ("core", "views", "inplace", "math", "index", "nn", "higher")

_SHAPES = [(), (1,), (3,), (4,), (2, 3), (3, 1), (1, 3), (2, 1, 3), (3, 4), (4, 3), (2, 3, 4)]
_SPECIAL = [0.0, 1.0, -1.0, 2.0, 0.5, -0.5, 3.0]
_SCALARS = ["2", "-1", "0", "3", "0.5", "-1.5", "2.0", "True", "False"]
_DTYPES = ["float32", "float32", "float32", "float64", "int64", "int32", "bool"]
# The small integer dtypes are drawn from a side generator (``_Gen.side``): an integer leaf
# becomes one of them, with values near the edges, where wrap-around and sign rules live. The
# main generator draws exactly what it drew before they existed, so every program that has no
# small-integer leaf is the same program as before (the fixed seeds of the tests keep theirs).
_SMALL_INTS = ["uint8", "int8", "int16"]
_EDGES = {"uint8": [0, 1, 2, 3, 7, 100, 200, 254, 255],
          "int8": [-128, -127, -3, -1, 0, 1, 5, 100, 127],
          "int16": [-32768, -300, -7, -1, 0, 2, 255, 300, 32767]}
_INT_OPS = ["//", "%", "&", "|", "^", "<<", ">>"]


def _literal(rng, shape, dtype):
    n = 1
    for s in shape:
        n *= s
    if dtype == "bool":
        flat = [rng.random() < 0.5 for _ in range(n)]
    elif dtype in ("int64", "int32"):
        flat = [rng.randint(-3, 4) for _ in range(n)]
    elif dtype in _EDGES:
        flat = [rng.choice(_EDGES[dtype]) for _ in range(n)]
    elif rng.random() < 0.3:  # ties, zeros and exact values: where the special cases live
        flat = [rng.choice(_SPECIAL) for _ in range(n)]
    else:
        flat = [round(rng.gauss(0, 1.5), 2) for _ in range(n)]

    def nest(items, dims):
        if not dims:
            return items[0]
        step = len(items) // dims[0] if dims[0] else 0
        return [nest(items[i * step:(i + 1) * step], dims[1:]) for i in range(dims[0])]

    return repr(nest(flat, list(shape)))


class _Gen(MathLines):
    def __init__(self, seed, families):
        import torch

        self.torch = torch
        self.rng = random.Random(seed)
        self.side = random.Random(seed + 0x5EED)   # small-integer choices (see _SMALL_INTS)
        self.families = families
        self.lines = []
        self.ns = {"lib": torch}
        self.count = 0

    # ------------------------------------------------------------------ state
    def tensors(self, pred=lambda t: True):
        T = self.torch.Tensor
        return [(k, v) for k, v in self.ns.items() if isinstance(v, T) and pred(v)]

    def try_line(self, line, keep_error=0.1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                exec(compiled(line), self.ns)  # noqa: S102
            except Exception:  # noqa: BLE001
                if self.rng.random() >= keep_error:
                    return False
        self.lines.append(line)
        return True

    def new_name(self, prefix="v"):
        self.count += 1
        return f"{prefix}{self.count}"

    def pick(self, pred=lambda t: True):
        found = self.tensors(pred)
        return self.rng.choice(found) if found else (None, None)

    def is_float(self, t):
        return t.dtype.is_floating_point

    # ------------------------------------------------------------------ leaves
    def leaf(self):
        rng = self.rng
        shape = rng.choice(_SHAPES)
        dtype = rng.choice(_DTYPES)
        args = [_literal(rng, shape, dtype)]
        if dtype in ("int64", "int32") and self.side.random() < 0.5:
            dtype = self.side.choice(_SMALL_INTS)
            args = [_literal(self.side, shape, dtype)]
        if dtype != "float32" or rng.random() < 0.1:
            args.append(f"dtype=lib.{dtype}")
        if dtype.startswith("float") and rng.random() < 0.7:
            args.append("requires_grad=True")
        self.try_line(f"{self.new_name('x')} = lib.tensor({', '.join(args)})", keep_error=0)

    # ------------------------------------------------------------------ operands
    def other_operand(self, a):
        """A second operand for a binary op with tensor ``a``: a scalar or a broadcastable
        tensor (sometimes a fresh 0-d or dimensioned one of another dtype)."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return rng.choice(_SCALARS)
        if r < 0.4:
            dt = rng.choice(_DTYPES)
            return f"lib.tensor({_literal(rng, (), dt)}, dtype=lib.{dt})"
        shape_a = tuple(a.shape)
        fits = [k for k, v in self.tensors() if _broadcasts(shape_a, tuple(v.shape))]
        return rng.choice(fits) if fits and rng.random() < 0.9 else self.pick()[0]

    def dim_arg(self, t):
        nd = max(t.dim(), 1)
        return str(self.rng.randrange(-nd, nd)) if self.rng.random() < 0.95 else str(nd)

    # ------------------------------------------------------------------ families
    def core_line(self):
        rng = self.rng
        a, t = self.pick()
        if a is None:
            return None
        kind = rng.random()
        if t.dtype in self.small_ints and self.side.random() < 0.4:
            return self.integer_line(a, t)
        if kind < 0.28:
            op = rng.choice(["+", "-", "*", "/", "**"])
            b = self.other_operand(t)
            bool_base = op == "**" and b in ("True", "False")
            if rng.random() < 0.25 and b in _SCALARS and not bool_base:
                return f"{b} {op} {a}"  # (True ** x: torch's backward hits an internal assert)
            bool_tensor = self.ns.get(b) is not None and self.ns[b].dtype == self.torch.bool
            if op == "**" and (rng.random() < 0.6 or bool_base or "bool" in b or bool_tensor):
                # (never a bool exponent: torch's pow backward fails on a bool tensor one, and
                # x ** False is not x ** 0 to its backward: a NaN at x = 0)
                b = rng.choice(["2", "3", "0", "0.5", "-1", "1.5", "2.0"])
            return f"{a} {op} {b}"
        if kind < 0.4:
            fn = rng.choice(["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg"])
            form = rng.random()
            if fn == "neg":
                return f"-{a}"
            return f"lib.{fn}({a})" if form < 0.4 else f"{a}.{fn}()"
        if kind < 0.5:
            op = rng.choice(["<", "<=", ">", ">=", "==", "!="])
            return f"{a} {op} {self.other_operand(t)}"
        if kind < 0.68:
            return self.reduction(a, t)
        if kind < 0.74:
            b, u = self.pick(lambda v: v.dim() >= 1)
            if b is None or t.dim() == 0:
                return None
            fits = [k for k, v in self.tensors(lambda v: v.dim() >= 1)
                    if v.shape[0 if v.dim() == 1 else -2] == t.shape[-1]]
            if fits and rng.random() < 0.9:
                b = rng.choice(fits)
            return f"{a} @ {b}" if rng.random() < 0.7 else f"lib.matmul({a}, {b})"
        if kind < 0.8:
            fn = rng.choice(["softmax", "log_softmax"])
            d = self.dim_arg(t)
            return f"{a}.{fn}({d})" if rng.random() < 0.6 else f"lib.{fn}({a}, {d})"
        if kind < 0.87:
            cond = self.pick(lambda v: v.dtype == self.torch.bool)[0] or f"{a} > 0"
            x = rng.choice([a, self.other_operand(t)])
            y = self.other_operand(t)
            return f"lib.where({cond}, {x}, {y})"
        if kind < 0.94:
            bounds = [rng.choice(["-0.5", "0", "1", "0.5", "-1"]), rng.choice(["0.5", "1", "2"])]
            if rng.random() < 0.3:
                # Tensor bounds that broadcast *to* a's shape: torch's backward fails when a
                # bound is larger than the input (its grad is reduced to the input's shape),
                # and its parser refuses a scalar mixed with a tensor bound.
                fits = [k for k, v in self.tensors()
                        if v.dim() <= t.dim()
                        and all(x in (1, y) for x, y in zip(reversed(v.shape), reversed(t.shape)))]
                if not fits:
                    return None
                bounds = [rng.choice(fits), rng.choice(fits)]
            which = rng.random()
            if which < 0.3:
                return f"{a}.clamp(min={bounds[0]})"
            if which < 0.45:
                return f"{a}.clamp(max={bounds[1]})"
            # (keywords: torch's parser refuses a positional mix of a scalar and a tensor)
            return f"lib.clamp({a}, min={bounds[0]}, max={bounds[1]})" if which < 0.6 else \
                f"{a}.clamp(min={bounds[0]}, max={bounds[1]})"
        fn = rng.choice(["maximum", "minimum"])
        b = self.other_operand(t)
        if b in _SCALARS or b.startswith("lib.tensor"):
            b = self.pick(lambda v: _broadcasts(tuple(t.shape), tuple(v.shape)))[0] or a
        return f"lib.{fn}({a}, {b})"

    @property
    def small_ints(self):
        return {getattr(self.torch, d) for d in _SMALL_INTS}

    def integer_line(self, a, t):
        """Integer-only ops on integer/bool tensor ``a``: floor division, remainder, bitwise ops,
        shifts, casts between the integer dtypes, and the image idiom ``.float() / 255``."""
        rng = self.side
        r = rng.random()
        if r < 0.5:
            # (an integer or bool partner: floor division of a tensor that requires grad raises
            # in backward, after torch's and minitorch's engines ran different other nodes)
            found = self.tensors(lambda v: not v.dtype.is_floating_point
                                 and _broadcasts(tuple(t.shape), tuple(v.shape)))
            ints = rng.choice(found)[0] if found else None
            b = rng.choice([ints or a, rng.choice(["1", "3", "-2", "7", "9", "300", "True"])])
            op = rng.choice(_INT_OPS)
            return f"{b} {op} {a}" if rng.random() < 0.15 and b[0] in "-0123456789" else \
                f"{a} {op} {b}"
        if r < 0.6:
            return f"~{a}"
        if r < 0.8:
            return f"{a}.{rng.choice(['byte', 'char', 'short', 'int', 'long', 'bool'])}()"
        if r < 0.9:
            return f"{a}.float() / 255"
        return f"{a}.{rng.choice(['sum', 'prod', 'cumsum', 'cumprod'])}(0)"

    def reduction(self, a, t):
        rng = self.rng
        fn = rng.choice(["sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "amax",
                         "amin", "all", "any"])
        r = rng.random()
        if fn in ("all", "any"):
            return f"{a}.{fn}()"
        if r < 0.35 and fn not in ("amax", "amin"):
            return f"{a}.{fn}()"
        d = self.dim_arg(t)
        keep = ", keepdim=True" if rng.random() < 0.4 else ""
        if fn in ("sum", "mean", "amax", "amin") and t.dim() >= 2 and rng.random() < 0.3:
            d = "(0, -1)"
        if fn in ("max", "min"):
            sub = rng.choice(["[0]", "[1]", ".values", ".indices"])
            return f"{a}.{fn}({d}{keep}){sub}" if rng.random() < 0.7 else \
                f"lib.{fn}({a}, {d}{keep}){sub}"
        if fn in ("std", "var") and rng.random() < 0.3:
            keep += ", unbiased=False"
        return f"{a}.{fn}({d}{keep})"

    def views_line(self):
        rng = self.rng
        a, t = self.pick()
        if a is None:
            return None
        nd = t.dim()
        kind = rng.randrange(9)
        if kind == 0:
            return f"{a}.reshape(-1)" if rng.random() < 0.5 else f"{a}.view({_shuffle(rng, t)})"
        if kind == 1:
            return f"{a}.transpose({self.dim_arg(t)}, {self.dim_arg(t)})"
        if kind == 2:
            dims = list(range(nd))
            rng.shuffle(dims)
            return f"{a}.permute({', '.join(map(str, dims))})" if dims else f"{a}.permute()"
        if kind == 3:
            return f"{a}.unsqueeze({rng.randrange(-nd - 1, nd + 1)})"
        if kind == 4:
            return f"{a}.squeeze({self.dim_arg(t)})" if rng.random() < 0.7 else f"{a}.squeeze()"
        if kind == 5:
            return f"{a}.flatten()" if rng.random() < 0.5 else f"{a}.t()"
        if kind == 6:
            if nd == 0:
                return f"{a}.expand(2, 3)"
            return f"{a}.expand(2, {', '.join(str(s) for s in t.shape)})"
        if kind == 7:
            return f"{a}.detach()" if rng.random() < 0.5 else f"{a}.clone()"
        return f"{a}[{self.index(t)}]"

    def index(self, t):
        rng = self.rng
        parts = []
        for s in t.shape[:rng.randint(1, max(t.dim(), 1))]:
            r = rng.random()
            if r < 0.35:
                parts.append(str(rng.randrange(-s, s)) if s else "0")
            elif r < 0.7:
                parts.append(rng.choice([":", "1:", ":-1", "::2", "0:1"]))
            elif r < 0.8:
                parts.append("None")
            else:
                # an empty dim has no index to pick: take all of it (nothing in it)
                parts.append(repr([rng.randrange(s) for _ in range(2)]) if s else ":")
        if rng.random() < 0.15:
            parts.insert(0, "...")
        return ", ".join(parts) or "..."

    def inplace_line(self):
        rng = self.rng
        a, t = self.pick()
        if a is None:
            return None
        kind = rng.random()
        if kind < 0.35:
            op = rng.choice(["add_", "sub_", "mul_", "div_"])
            return f"{a}.{op}({self.other_operand(t)})"
        if kind < 0.55:
            op = rng.choice(["+=", "-=", "*=", "/="])
            return f"{a} {op} {self.other_operand(t)}"
        if kind < 0.65:
            return rng.choice([f"{a}.zero_()", f"{a}.fill_({rng.choice(_SCALARS)})",
                               f"{a}.relu_()", f"{a}.clamp_(-1, 1)", f"{a}.pow_(2)"])
        if kind < 0.75:
            return f"{a}.copy_({self.other_operand(t)})"
        if kind < 0.9 and t.dim() >= 1:
            op = rng.choice(["add_(1)", "mul_(2)", "zero_()", "fill_(7)"])
            return f"{a}[{self.index(t)}].{op}"
        return f"{a}[{self.index(t)}] = {rng.choice(_SCALARS)}"

    def higher_line(self):  # create_graph=True and differentiating again: programs_higher.py
        from .programs_higher import higher_line
        return higher_line(self)

    # ------------------------------------------------------------------ program
    def step(self):
        family = self.rng.choice(self.families)
        expr = getattr(self, f"{family}_line")()
        if expr is None:
            return
        statement = (family == "inplace" and
                     (" += " in expr or " -= " in expr or " *= " in expr or " /= " in expr
                      or "] = " in expr))
        line = expr if statement else f"{self.new_name()} = {expr}"
        if self.rng.random() < 0.12:
            line = f"with lib.no_grad(): {line}"
        self.try_line(line)

    def finish(self):
        rng = self.rng
        floats = [k for k, v in self.tensors(lambda v: v.requires_grad
                                               and v.dtype.is_floating_point)]
        rng.shuffle(floats)
        terms = []
        for name in floats[:3]:
            shape = tuple(self.ns[name].shape)
            terms.append(f"({name} * lib.tensor({_literal(rng, shape, 'float32')}, "
                         f"dtype={name}.dtype)).sum()")
        if terms:
            self.lines.append(f"loss = {' + '.join(terms)}")
            self.lines.append("loss.backward()")


def _broadcasts(a, b):
    for x, y in zip(reversed(a), reversed(b)):
        if x != y and x != 1 and y != 1:
            return False
    return True


def _shuffle(rng, t):
    """A reshape target for ``t``: its sizes in another order, or with a -1."""
    dims = list(t.shape)
    rng.shuffle(dims)
    if dims and rng.random() < 0.4:
        dims[rng.randrange(len(dims))] = -1
    return ", ".join(map(str, dims)) if dims else "()"


def generate(seed, families=("core",), steps=8, leaves=3):
    """Return the lines of one random program (deterministic for a seed)."""
    g = _Gen(seed, tuple(families))
    for _ in range(leaves):
        g.leaf()
    for _ in range(steps):
        g.step()
    g.finish()
    return g.lines


from .programs_index import index_line as _index_line  # noqa: E402 - the "index" family

_Gen.index_line = _index_line

from .programs_nn import nn_line as _nn_line  # noqa: E402 - the "nn" family

_Gen.nn_line = _nn_line
