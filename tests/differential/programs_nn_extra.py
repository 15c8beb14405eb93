"""The core-nn part of the "nn" family: random calls of the layers core-nn added
(conv_transpose1d/2d, group/instance/rms norm, the extra activations and their in-place forms,
cosine_similarity, pairwise_distance, pdist, the extra losses, pixel_shuffle, unfold/fold,
adaptive max-pool, bilinear) on the program's tensors. ``nn_extra_line(gen, a, t)`` returns one
expression or None, like ``programs_nn``'s helpers (which it reuses for leaves)."""
from .programs_nn import _REDUCTIONS, F, _leaf, _numel

__all__ = ["nn_extra_line"]

_BATCHMEAN = "'batchmean'"


def _activation(gen, a, t):
    rng = gen.rng
    fn, args = rng.choice([
        ("selu", ""), ("celu", f", alpha={rng.choice(['1.0', '0.5', '2.0'])}"),
        ("hardswish", ""), ("hardsigmoid", ""), ("mish", ""), ("logsigmoid", ""),
        ("softsign", ""), ("tanhshrink", ""),
        ("softshrink", f", {rng.choice(['0.5', '0.0', '1.0'])}"),
        ("hardshrink", f", {rng.choice(['0.5', '0.0', '1.0'])}"),
        ("threshold", f", {rng.choice(['0.0', '0.5', '-1.0'])}, {rng.choice(['0.0', '2.0'])}"),
        ("rrelu", ", training=False"), ("softmin", f", dim={gen.dim_arg(t)}"),
    ])
    scale = " * 4" if fn in ("hardswish", "hardsigmoid") and rng.random() < 0.5 else ""
    if fn in ("selu", "celu", "hardswish", "threshold") and rng.random() < 0.25:
        return f"{F}.{fn}(({a}{scale}).clone(){args}, inplace=True)"
    return f"{F}.{fn}({a}{scale}{args})"


def _glu_prelu(gen, a, t):
    rng = gen.rng
    if rng.random() < 0.5:
        if t.dim() == 0 or t.shape[-1] % 2:
            return None
        return f"{F}.glu({a})"
    C = t.shape[1] if t.dim() >= 2 else 1
    w = _leaf(gen, (rng.choice([1, C]),))
    return f"{F}.prelu({a}, {w})" if w else None


def _spread(t, rows):
    """Whether every row of ``t`` (reshaped to ``rows`` rows) has a variance well above
    rounding: normalising a (nearly) constant row amplifies rounding noise by 1/sqrt(eps),
    which is not a semantic to match (see programs_nn._layer_norm)."""
    if not t.dtype.is_floating_point or not t.numel() or t.numel() % rows:
        return False
    r = t.detach().double().reshape(rows, -1)
    return r.shape[1] > 1 and float(r.var(1, unbiased=False).min()) > 1e-3


def _norm(gen, a, t):
    rng = gen.rng
    choice = rng.randrange(3)
    if choice == 0 and t.dim() >= 2:
        C = t.shape[1]
        G = rng.choice([g for g in range(1, C + 1) if C % g == 0])
        if not _spread(t, t.shape[0] * G):
            return None
        affine = f", {_leaf(gen, (C,))}, {_leaf(gen, (C,))}" if rng.random() < 0.5 else ""
        return f"{F}.group_norm({a}, {G}{affine})"
    if choice == 1 and t.dim() == 3:
        if not _spread(t, t.shape[0] * t.shape[1]):
            return None
        return f"{F}.instance_norm({a})"
    if t.dim() == 0:
        return None
    k = rng.randint(1, t.dim())
    shape = tuple(t.shape[t.dim() - k:])
    w = f", {_leaf(gen, shape)}" if rng.random() < 0.5 else ""
    eps = rng.choice(["", ", eps=1e-3"])
    return f"{F}.rms_norm({a}, {shape!r}{w}{eps})"


def _conv_transpose(gen, a, t):
    rng = gen.rng
    if t.dim() != 3:
        x, C = f"{a}.reshape(1, 1, -1)", 1
    else:
        x, C = a, t.shape[1]
    groups = rng.choice([g for g in (1, 2) if C % g == 0])
    O, K = rng.randint(1, 2), rng.randint(1, 3)
    w = _leaf(gen, (C, O, K))
    if w is None:
        return None
    stride = rng.randint(1, 3)
    extra = [f"stride={stride}"]
    if rng.random() < 0.5:
        extra.append(f"padding={rng.randint(0, 1)}")
    if stride > 1 and rng.random() < 0.5:
        extra.append("output_padding=1")
    if rng.random() < 0.3:
        extra.append("dilation=2")
    if groups > 1:
        extra.append(f"groups={groups}")
    b = f", {_leaf(gen, (O * groups,))}" if rng.random() < 0.4 else ", None"
    return f"{F}.conv_transpose1d({x}, {w}{b}, {', '.join(extra)})"


def _distance(gen, a, t):
    rng = gen.rng
    same = [k for k, v in gen.tensors(lambda v: v.dtype == t.dtype
                                      and tuple(v.shape) == tuple(t.shape))]
    b = rng.choice(same) if same else _leaf(gen, tuple(t.shape))
    if b is None or t.dim() == 0:
        return None
    choice = rng.randrange(3)
    if choice == 0:
        return f"{F}.cosine_similarity({a}, {b}, dim={gen.dim_arg(t)})"
    if choice == 1:
        return f"{F}.pairwise_distance({a}, {b}, p={rng.choice(['2.0', '1.0', '3.0'])})"
    if t.dim() != 2 or t.shape[1] == 0:
        return None
    return f"{F}.pdist({a}, p={rng.choice(['2', '1'])})"


def _loss(gen, a, t):
    rng = gen.rng
    red = rng.choice(_REDUCTIONS)
    b = _leaf(gen, tuple(t.shape))
    if b is None or t.dim() == 0:
        return None
    sign = f"lib.sign({b}).detach()"
    choice = rng.randrange(6)
    if choice == 0:
        dim = t.dim() - 1
        return f"{F}.kl_div({F}.log_softmax({a}, {dim}), {F}.softmax({b}, {dim}), " \
               f"reduction={rng.choice(_REDUCTIONS + [_BATCHMEAN])})"
    if choice == 1:
        return f"{F}.soft_margin_loss({a}, {sign}, reduction={red})"
    if choice == 2:
        return f"{F}.hinge_embedding_loss({a}, {sign}, margin={rng.choice(['1.0', '0.5'])}, " \
               f"reduction={red})"
    if choice == 3:
        return f"{F}.margin_ranking_loss({a}, {b}, {sign}, margin=0.1, reduction={red})"
    if choice == 4:
        return f"{F}.gaussian_nll_loss({a}, {b}, lib.exp({b}), reduction={red})"
    return f"{F}.poisson_nll_loss({a}, lib.exp({b}).detach(), reduction={red})"


def _rearrange(gen, a, t):
    rng = gen.rng
    n = _numel(t.shape)
    choice = rng.randrange(3)
    if choice == 0 and n and n % 4 == 0:
        return f"{F}.pixel_shuffle({a}.reshape(1, 4, 1, -1), 2)"
    if choice == 1 and n >= 2:
        k = rng.randint(1, min(n, 3))
        return f"{F}.unfold({a}.reshape(1, 1, 1, -1), (1, {k}))"
    if n:
        return f"{F}.adaptive_max_pool1d({a}.reshape(1, 1, -1), {rng.randint(1, n)})"
    return None


def nn_extra_line(gen, a, t):
    if not t.dtype.is_floating_point:   # (integer inputs: torch's support is op by op)
        return None
    kind = gen.rng.random()
    if kind < 0.3:
        return _activation(gen, a, t)
    if kind < 0.4:
        return _glu_prelu(gen, a, t)
    if kind < 0.55:
        return _norm(gen, a, t)
    if kind < 0.68:
        return _conv_transpose(gen, a, t)
    if kind < 0.78:
        return _distance(gen, a, t)
    if kind < 0.9:
        return _loss(gen, a, t)
    return _rearrange(gen, a, t)
