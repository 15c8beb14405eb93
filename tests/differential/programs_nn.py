"""The "nn" family of the differential tester: random calls of the ``nn.functional`` entries
(activations with random arguments, layer_norm, normalize, pad, interpolate, conv1d, the 1-d
pools, embedding, one_hot, and the losses over every reduction) on the program's tensors.

``nn_line(gen)`` returns one expression (or None), like the other families' ``*_line`` methods;
it may first add leaf lines (a weight, a target) through ``gen.try_line``. Values come from the
generator's literals, so ties, zeros and the activations' kinks (0, +-1, 0.5) are common.
"""
from .programs import _literal

__all__ = ["nn_line"]

F = "lib.nn.functional"
_REDUCTIONS = ["'mean'", "'sum'", "'none'"]


def _leaf(gen, shape, dtype="float32", grad=True):
    name = gen.new_name("w")
    args = [_literal(gen.rng, shape, dtype)]
    if dtype != "float32":
        args.append(f"dtype=lib.{dtype}")
    if grad:
        args.append("requires_grad=True")
    return name if gen.try_line(f"{name} = lib.tensor({', '.join(args)})", keep_error=0) \
        else None


def _activation(gen, a):
    rng = gen.rng
    choice = rng.randrange(12)
    if choice == 0:
        approx = rng.choice(["", ", approximate='tanh'"])
        return f"{F}.gelu({a}{approx})"
    if choice == 1:
        return f"{F}.leaky_relu({a}, {rng.choice(['0.01', '0.2', '-0.5', '1.5'])})"
    if choice == 2:
        return f"{F}.elu({a}, alpha={rng.choice(['1.0', '0.5', '2.0'])})"
    if choice == 3:
        return f"{F}.softplus({a}, beta={rng.choice(['1', '2', '0.5'])}, " \
               f"threshold={rng.choice(['20', '1', '0.5'])})"
    if choice == 4:
        lo, hi = rng.choice([("-1.0", "1.0"), ("-0.5", "0.5"), ("0", "2"), ("1", "-1")])
        return f"{F}.hardtanh({a}, {lo}, {hi})"
    if choice == 5:
        return f"{F}.relu6({a} * 4)"
    if choice == 6:
        return f"{F}.{rng.choice(['silu', 'sigmoid', 'tanh'])}({a})"
    if choice == 7:
        return f"{F}.{rng.choice(['softmax', 'log_softmax'])}({a}, dim={gen.dim_arg(gen.ns[a])})"
    if choice == 8:
        fn = rng.choice(["leaky_relu", "elu", "silu", "hardtanh", "relu6"])
        return f"{F}.{fn}({a}.clone(), inplace=True)"
    if choice == 9:
        return f"{F}.normalize({a}, p={rng.choice(['2', '1', '3'])}, dim={gen.dim_arg(gen.ns[a])})"
    if choice == 10:
        return f"{F}.dropout2d({a}, p=0.0) if {a}.dim() >= 2 else {a}"
    return f"{F}.gelu({a}, approximate='bogus')"  # refused by both


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _layer_norm(gen, a, t):
    rng = gen.rng
    if t.dim() == 0:
        return f"{F}.layer_norm({a}, ())"
    k = rng.randint(1, t.dim())
    shape = tuple(t.shape[t.dim() - k:])
    rows = t.detach().double().reshape(-1, _numel(shape)) \
        if t.dtype.is_floating_point and t.numel() else None
    if _numel(shape) == 1 or (rows is not None
                              and float(rows.var(1, unbiased=False).min()) < 1e-4):
        # over one element, or a (nearly) constant row, x - mean is rounding, and torch's fused
        # x * rstd - mean * rstd leaves it times 1/sqrt(eps) in the values and gradients:
        # noise, not a semantic to match
        return None
    args = [a, repr(shape)]
    if rng.random() < 0.6:
        w = _leaf(gen, shape)
        args.append(f"weight={w}")
        if rng.random() < 0.7:
            args.append(f"bias={_leaf(gen, shape)}")
    if rng.random() < 0.3:
        args.append(f"eps={rng.choice(['1e-3', '0.1'])}")
    return f"{F}.layer_norm({', '.join(args)})"


def _pad(gen, a, t):
    rng = gen.rng
    mode = rng.choice(["constant", "constant", "reflect", "replicate", "circular"])
    k = rng.randint(1, max(min(t.dim(), 3), 1))
    pads = [rng.choice([0, 1, 2, -1] if mode == "constant" else [0, 1, 2]) for _ in range(2 * k)]
    value = f", value={rng.choice(['0.5', '-2'])}" if mode == "constant" and rng.random() < 0.5 \
        else ""
    return f"{F}.pad({a}, {tuple(pads)!r}, mode={mode!r}{value})"


def _interpolate(gen, a, t):
    rng = gen.rng
    if t.dim() < 2:
        return None
    x = f"{a}.reshape(1, 1, {t.shape[-2]}, {t.shape[-1]})"
    mode = rng.choice(["nearest", "bilinear", "bilinear"])
    if mode == "bilinear" and t.dtype == gen.torch.uint8:
        mode = "nearest"   # (torch's uint8 bilinear rounds in a fixed point minitorch lacks)
    how = rng.choice([f"scale_factor={rng.choice(['2', '1.5', '0.5', '3'])}",
                      f"size=({rng.randint(1, 5)}, {rng.randint(1, 5)})"])
    corners = f", align_corners={rng.choice(['True', 'False'])}" if mode == "bilinear" else ""
    return f"{F}.interpolate({x}, {how}, mode={mode!r}{corners})"


def _conv_pool(gen, a, t):
    rng = gen.rng
    if t.dim() != 3:
        x = f"{a}.reshape(1, 1, -1)"
        C, L = 1, max(t.numel(), 1)
    else:
        x, C, L = a, t.shape[1], t.shape[2]
    choice = rng.randrange(4)
    if choice == 0:
        K = rng.randint(1, 3)
        w = _leaf(gen, (rng.randint(1, 3), C, K))
        b = f", {_leaf(gen, (gen.ns[w].shape[0],))}" if w and rng.random() < 0.5 else ""
        extra = rng.choice(["", ", padding=1", ", stride=2", ", padding='same'", ", dilation=2"])
        return f"{F}.conv1d({x}, {w}{b}{extra})" if w else None
    k = rng.randint(1, 3)
    if choice == 1:
        extra = rng.choice(["", ", stride=1", ", padding=1" if k >= 2 else "", ", ceil_mode=True"])
        return f"{F}.max_pool1d({x}, {k}{extra})"
    if choice == 2:
        extra = rng.choice(["", ", stride=1", ", padding=1, count_include_pad=False"
                            if k >= 2 else ""])
        return f"{F}.avg_pool1d({x}, {k}{extra})"
    return f"{F}.adaptive_avg_pool1d({x}, {rng.randint(1, max(L, 1))})"


def _lookup(gen, a, t):
    rng = gen.rng
    if rng.random() < 0.5:
        idx = _literal(rng, rng.choice([(3,), (2, 2), ()]), "int64").replace("-", "")
        V = rng.randint(2, 5)
        w = _leaf(gen, (V, rng.randint(1, 3)))
        pad = f", padding_idx={rng.randrange(V)}" if rng.random() < 0.4 else ""
        return f"{F}.embedding(lib.tensor({idx}), {w}{pad})" if w else None
    ints = [k for k, v in gen.tensors(lambda v: v.dtype == gen.torch.int64)]
    src = rng.choice(ints) if ints else None
    if src is None:
        return None
    return f"{F}.one_hot({src}.abs(){rng.choice(['', ', 5', ', 3'])})"


def _loss(gen, a, t):
    rng = gen.rng
    red = rng.choice(_REDUCTIONS)
    # the same dtype: torch's loss kernels mix dtypes inconsistently (huber_loss keeps the
    # input's, and several backward passes then fail with "Found dtype Double")
    same = [k for k, v in gen.tensors(lambda v: v.dtype == t.dtype
                                      and tuple(v.shape) == tuple(t.shape))]
    dt = str(t.dtype).rsplit(".", 1)[-1]
    b = rng.choice(same) if same and rng.random() < 0.8 else \
        _leaf(gen, tuple(t.shape), dt, grad=dt.startswith("float"))
    if b is None:
        return None
    choice = rng.randrange(6)
    if choice == 0:
        return f"{F}.l1_loss({a}, {b}, reduction={red})"
    if choice == 1:
        return f"{F}.smooth_l1_loss({a}, {b}, reduction={red}, " \
               f"beta={rng.choice(['1.0', '0.5', '0.0', '2'])})"
    if choice == 2:
        return f"{F}.huber_loss({a}, {b}, reduction={red}, delta={rng.choice(['1.0', '0.5'])})"
    if choice == 3:
        return f"{F}.mse_loss({a}, {b}, reduction={red})"
    if choice == 4:
        w = f", weight={_leaf(gen, tuple(t.shape), grad=False)}" if rng.random() < 0.3 else ""
        return f"{F}.binary_cross_entropy(lib.sigmoid({a}), lib.sigmoid({b}).detach(), " \
               f"reduction={red}{w})"
    pw = f", pos_weight={_leaf(gen, tuple(t.shape[-1:]), grad=False)}" \
        if t.dim() and rng.random() < 0.4 else ""
    # (a 0/1 target from its own literal: ``(b > 0)`` would flip where b rounds to +-0)
    mask = _leaf(gen, tuple(t.shape), "bool", grad=False)
    target = rng.choice([f"lib.sigmoid({b})", f"{mask}.float()"])
    return f"{F}.binary_cross_entropy_with_logits({a}, {target}, reduction={red}{pw})"


def nn_line(gen):
    a, t = gen.pick(lambda v: v.dtype.is_floating_point) if gen.rng.random() < 0.93 \
        else gen.pick()
    if a is None:
        return None
    if gen.rng.random() < 0.3:   # the layers core-nn added (programs_nn_extra.py)
        return nn_extra_line(gen, a, t)
    kind = gen.rng.random()
    if kind < 0.35:
        return _activation(gen, a)
    if kind < 0.45:
        return _layer_norm(gen, a, t)
    if kind < 0.55:
        return _pad(gen, a, t)
    if kind < 0.63:
        return _interpolate(gen, a, t)
    if kind < 0.75:
        return _conv_pool(gen, a, t)
    if kind < 0.82:
        return _lookup(gen, a, t)
    return _loss(gen, a, t)


# (imported last: programs_nn_extra reuses this module's helpers above)
from .programs_nn_extra import nn_extra_line  # noqa: E402
