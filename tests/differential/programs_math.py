"""The "math" family of the random programs: issue 12's functions and methods (the function
forms with ``alpha=``/``rounding_mode=``/``out=``, ``//`` and ``%``, comparison and logical
functions, the unary maths, prod/cumsum/cumprod/logsumexp/norm, var/std with ``correction``,
``dtype=`` on reductions, casts and the in-place unary forms)."""

__all__ = ["MathLines"]

_UNARY = ["sin", "cos", "tan", "log1p", "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal",
          "square", "sign", "floor", "ceil", "round", "trunc", "frac", "neg", "abs", "exp", "log",
          "sqrt", "sigmoid", "tanh", "isnan", "isinf", "isfinite", "logical_not"]
_INPLACE = ["neg_", "exp_", "log_", "sqrt_", "abs_", "sigmoid_", "tanh_", "sin_", "cos_",
            "floor_", "square_", "reciprocal_", "round_", "trunc_", "frac_", "sign_"]
_BINARY = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
           "eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor"]
_DTYPES = ["float32", "float64", "int64", "int32", "bool"]


class MathLines:
    """Mixed into the generator (``programs._Gen``): ``self.rng``, ``pick``, ``other_operand``,
    ``dim_arg`` come from there."""

    def math_line(self):
        rng = self.rng
        a, t = self.pick()
        if a is None:
            return None
        kind = rng.random()
        if kind < 0.3:
            return self._math_binary(a, t)
        if kind < 0.5:
            fn = rng.choice(_UNARY)
            return f"lib.{fn}({a})" if rng.random() < 0.5 else f"{a}.{fn}()"
        if kind < 0.72:
            return self._math_reduction(a, t)
        if kind < 0.82:
            # (on a clone: an in-place op on another op's saved output is the inplace family's
            # business, and torch's engine order on such errors differs from ours)
            return f"{a}.clone().{rng.choice(_INPLACE)}()"
        if kind < 0.9:
            return f"{a}.{rng.choice(['int', 'long', 'float', 'double', 'bool'])}()"
        # out=: a fresh tensor (empty, or of another shape/dtype: resized or refused as torch)
        # (not clamp: torch refuses some casts into out= there that it makes for add or mul)
        fn = rng.choice(["add", "mul", "sub", "exp", "sum", "cumsum"])
        dt = rng.choice(_DTYPES)
        out = f"out=lib.empty({rng.choice(['0', '2', '3'])}, dtype=lib.{dt})"
        args = {"add": self.other_operand(t), "mul": self.other_operand(t),
                "sub": self.other_operand(t), "exp": None, "sum": self.dim_arg(t),
                "cumsum": self.dim_arg(t)}[fn]
        return f"lib.{fn}({a}, {args + ', ' if args else ''}{out})"

    def _math_binary(self, a, t):
        rng = self.rng
        b = self.other_operand(t)
        r = rng.random()
        # floor division, and a remainder of a number, have no derivative in torch: their results
        # are detached, as torch's engine and ours stop at a different point on that error
        # (tests/test_tensor.py tests the error itself)
        if r < 0.1:
            # (a divisor's gradient, -sum(g * floor(a / b)), cancels large terms: float32 noise
            # beyond the tolerance; the op table checks it in float64)
            return f"{a} % {b}.detach()" if b in self.ns else f"{a} % {b}"
        if r < 0.2:
            expr = f"{a} // {b}" if rng.random() < 0.6 else \
                f"{rng.choice(['7', '-2.5', '3'])} {rng.choice(['//', '%'])} {a}"
            return f"({expr}).detach()"
        fn = rng.choice(_BINARY)
        if fn == "floor_divide":
            return f"lib.floor_divide({a}, {b}).detach()"
        extra = ""
        if fn in ("add", "sub") and rng.random() < 0.5:
            extra = f", alpha={rng.choice(['2', '-1', '0.5', '3'])}"
        if fn == "div" and rng.random() < 0.6:
            extra = f", rounding_mode={rng.choice(['None', repr('trunc'), repr('floor')])}"
        if fn in ("add", "sub", "mul", "div", "pow") and rng.random() < 0.2:
            return f"lib.{fn}({rng.choice(['2', '1.5', '-1'])}, {a}{extra})"  # a number first
        if fn == "pow":
            b = rng.choice(["2", "3", "0.5", "-1", "2.0", b])
        return f"lib.{fn}({a}, {b}{extra})" if rng.random() < 0.6 else f"{a}.{fn}({b}{extra})"

    def _math_reduction(self, a, t):
        rng = self.rng
        d = self.dim_arg(t)
        keep = ", keepdim=True" if rng.random() < 0.4 else ""
        fn = rng.choice(["prod", "cumsum", "cumprod", "logsumexp", "norm", "var", "std", "mean",
                         "sum", "all", "any"])
        if fn in ("cumsum", "cumprod"):
            dtype = f", dtype=lib.{rng.choice(_DTYPES[:4])}" if rng.random() < 0.2 else ""
            return f"lib.{fn}({a}, {d}{dtype})"
        if fn == "logsumexp":
            return f"lib.logsumexp({a}, {d}{keep})"
        if fn == "norm":
            p = rng.choice(["2", "1", "3", "float('inf')", "-float('inf')", "0", "'fro'", "0.5"])
            where = rng.choice(["", f", dim={d}{keep}"])
            return f"lib.norm({a}, {p}{where})" if rng.random() < 0.5 else f"{a}.norm({p}{where})"
        if fn in ("var", "std"):
            return f"lib.{fn}({a}, {d}, correction={rng.choice(['0', '1', '2'])}{keep})"
        if fn in ("mean", "sum"):
            dtype = rng.choice(["", ", dtype=lib.float64", ", dtype=lib.int64",
                                ", dtype=lib.float32"])
            return f"lib.{fn}({a}, {d}{keep}{dtype})" if rng.random() < 0.7 else \
                f"lib.{fn}({a}{dtype})"
        if fn == "prod" and rng.random() < 0.4:
            return f"lib.prod({a})"
        return f"lib.{fn}({a}, {d}{keep})"
