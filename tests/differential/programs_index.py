"""The "index" family of the differential tester: random lines over the shape, indexing and
linear-algebra ops (split/chunk/unbind pieces, narrow, movedim, diagonal, unfold, gather/scatter,
index_select, masks, sort/topk, flip/roll/repeat, tril/triu, the matrix products and einsum),
their in-place forms, and in-place ops through split pieces.

``index_line(gen)`` is a method of programs._Gen (registered there): it reads the torch values of
the program so far (``gen.ns``) to build index tensors that fit. ``topk`` is only asked where the
values along its dim are distinct: which of tied elements torch's partial sort returns is an
implementation detail (see README).
"""
import itertools

__all__ = ["index_line"]


def _rand_index(rng, shape, n, unique_dim=None):
    """A nested-list literal of ``shape`` with positions in [0, n); along ``unique_dim`` no
    position repeats (scatter with repeated positions is nondeterministic in torch)."""
    if unique_dim is not None:
        return _unique_along(rng, shape, n, unique_dim)

    def nest(dims):
        if not dims:
            return rng.randrange(n)
        return [nest(dims[1:]) for _ in range(dims[0])]
    return repr(nest(list(shape)))


def _unique_along(rng, shape, n, dim):
    out = {}
    others = [range(s) for i, s in enumerate(shape) if i != dim]
    for pos in itertools.product(*others):
        perm = rng.sample(range(n), shape[dim])
        for k, p in enumerate(perm):
            full = list(pos)
            full.insert(dim, k)
            out[tuple(full)] = p

    def nest(prefix, depth):
        if depth == len(shape):
            return out[tuple(prefix)]
        return [nest(prefix + [i], depth + 1) for i in range(shape[depth])]
    return repr(nest([], 0))


def _smaller(rng, shape, dim):
    """An index shape for gather/scatter: the input's rank, each size at most the input's."""
    return tuple(rng.randint(1, s) if s else 0 for s in shape) if all(shape) else tuple(shape)


def _lit(rng, shape):
    from .programs import _literal
    return _literal(rng, shape, "float32")


def index_line(gen):
    rng, torch = gen.rng, gen.torch
    a, t = gen.pick()
    if a is None:
        return None
    nd = t.dim()
    d = rng.randrange(-nd, nd) if nd else 0
    n = t.shape[d] if nd else 1
    kind = rng.randrange(23)
    if kind == 0:
        fn = rng.choice(["split", "chunk", "tensor_split"])
        arg = rng.choice(["1", "2", "3"]) if fn != "split" or rng.random() < 0.7 else \
            repr([1, max(n - 1, 0)])
        return f"{a}.{fn}({arg}, {d})[{rng.choice([0, -1])}]"
    if kind == 1:
        return f"{a}.unbind({d})[{rng.choice([0, -1])}]" if n else f"{a}.unbind({d})"
    if kind == 2:
        start = rng.randrange(0, n + 1) if n else 0
        return f"{a}.narrow({d}, {start}, {rng.randrange(0, n - start + 1) if n else 0})"
    if kind == 3:
        return f"{a}.movedim({d}, {rng.randrange(-nd, nd) if nd else 0})"
    if kind == 4:
        d2 = rng.randrange(-nd, nd) if nd else 0
        return f"{a}.diagonal({rng.randint(-2, 2)}, {d}, {d2})"
    if kind == 5:
        return rng.choice([f"{a}.mT", f"{a}.mH", f"{a}.H"])
    if kind == 6 and nd:
        shape = _smaller(rng, tuple(t.shape), d % nd)
        shape = tuple(rng.randint(1, 3) if i == d % nd else s for i, s in enumerate(shape))
        return f"{a}.gather({d}, lib.tensor({_rand_index(rng, shape, max(n, 1))}))"
    if kind == 7 and nd and n:
        shape = tuple(min(s, rng.randint(1, 3)) for s in t.shape)
        idx = _rand_index(rng, shape, n, unique_dim=d % nd)
        src = rng.choice([rng.choice(["1.5", "-2", "0"]), f"lib.tensor({_lit(rng, shape)}, "
                                                            f"dtype={a}.dtype)"])
        op = rng.choice(["scatter", "scatter", "scatter_"])
        return f"{a}.{op}({d}, lib.tensor({idx}), {src})"
    if kind == 8 and nd and n:
        shape = tuple(min(s, rng.randint(1, 3)) for s in t.shape)
        idx = _rand_index(rng, shape, n)
        op = rng.choice(["scatter_add", "scatter_add_"])
        return f"{a}.{op}({d}, lib.tensor({idx}), lib.tensor({_lit(rng, shape)}, " \
               f"dtype={a}.dtype))"
    if kind == 9:
        idx = [rng.randrange(max(n, 1)) for _ in range(rng.randint(0, 3))]
        return f"{a}.index_select({d}, lib.tensor({idx}, dtype=lib.int64))"
    if kind == 10:
        mask = gen.pick(lambda v: v.dtype == torch.bool)[0] or f"{a} > 0"
        value = rng.choice(["0.", "-1", "2.5", "lib.tensor(3.)", "True"])
        op = rng.choice(["masked_fill", "masked_fill", "masked_fill_"])
        return f"{a}.{op}({mask}, {value})"
    if kind == 11:
        mask = gen.pick(lambda v: v.dtype == torch.bool)[0] or f"{a} > 0"
        return f"{a}.masked_select({mask})" if rng.random() < 0.5 else \
            f"{a}.where({mask}, {gen.other_operand(t)})"
    if kind == 12:
        sub = rng.choice([".values", ".indices", "[0]", "[1]"])
        desc = rng.choice(["", ", descending=True", ", stable=True"])
        if nd and t.shape[d] > 16 and not _distinct_along(t, d):
            # torch's unstable sort (std::sort) orders ties its own way past 16 elements
            desc = rng.choice(["", ", descending=True"])
            return f"{a}.sort(dim={d}{desc}, stable=True){sub}"
        return f"{a}.sort({d}{desc}){sub}" if rng.random() < 0.7 else \
            f"{a}.argsort({d}{desc})"
    if kind == 13:
        if nd and n and not _distinct_along(t, d):
            return None
        k = rng.randint(0, max(n, 1))
        largest = rng.choice(["", ", largest=False"])
        return f"{a}.topk({k}, {d}{largest}){rng.choice(['.values', '.indices'])}"
    if kind == 14:
        return f"{a}.nonzero()" if rng.random() < 0.6 else \
            f"{a}.nonzero(as_tuple=True)[0]"
    if kind == 15:
        dims = sorted({rng.randrange(-nd, nd) for _ in range(rng.randint(1, 2))}) if nd else [0]
        return rng.choice([f"{a}.flip({', '.join(map(str, dims))})",
                           f"{a}.roll({rng.randint(-3, 3)})",
                           f"{a}.roll({rng.randint(-3, 3)}, {d})"])
    if kind == 16:
        sizes = [rng.randint(1, 2) for _ in range(nd + rng.randint(0, 1))]
        return rng.choice([f"{a}.repeat({', '.join(map(str, sizes)) or '()'})",
                           f"{a}.tile(({rng.randint(1, 3)},))",
                           f"{a}.repeat_interleave({rng.randint(1, 2)})",
                           f"{a}.repeat_interleave({rng.randint(1, 2)}, dim={d})"])
    if kind == 17:
        op = rng.choice(["tril", "triu", "tril_", "triu_", "diag"])
        return f"{a}.{op}({rng.randint(-1, 1)})"
    if kind == 18:
        return _product(gen, a, t)
    if kind == 19:
        return _einsum(gen, a, t)
    if kind == 20 and nd:
        # in place through a split piece or a narrow view
        op = rng.choice(["mul_(2)", "add_(1)", "zero_()"])
        view = rng.choice([f"{a}.split(1, {d})[0]", f"{a}.unbind({d})[0]" if n else f"{a}[...]",
                           f"{a}.narrow({d}, 0, {min(n, 1)})", f"{a}.diagonal()"])
        return f"{view}.{op}"
    if kind == 21:
        other = gen.pick(lambda v: v.dim() == 1)[0]
        return f"lib.addmm({other or a}, {a}, {a}.mT)" if nd == 2 else \
            f"{a}.expand_as({gen.pick()[0]})"
    if kind == 22:
        return _unfold(rng, a, d, n)
    return None


def _unfold(rng, a, d, n):
    """Windows along ``d``; or an in-place op through windows that do not overlap (through
    overlapping ones torch's result depends on its loop order)."""
    size = rng.randint(0, n)
    if rng.random() < 0.3:
        step = rng.randint(max(size, 1), max(size, 1) + 1)
        return f"{a}.unfold({d}, {size}, {step}).{rng.choice(['mul_(2)', 'add_(1)', 'zero_()'])}"
    return f"{a}.unfold({d}, {size}, {rng.randint(1, 3)})"


def _distinct_along(t, d):
    s = t.detach().double().sort(d).values
    return bool((s.diff(dim=d) != 0).all()) if t.shape[d] > 1 else True


def _product(gen, a, t):
    rng = gen.rng
    nd = t.dim()
    if nd == 2:
        k = t.shape[1]
        fits = [name for name, v in gen.tensors(lambda v: v.dim() == 2 and v.shape[0] == k)]
        vecs = [name for name, v in gen.tensors(lambda v: v.dim() == 1 and v.shape[0] == k)]
        if vecs and rng.random() < 0.4:
            return f"{a}.mv({rng.choice(vecs)})"
        return f"{a}.mm({rng.choice(fits) if fits else a + '.mT'})"
    if nd == 3:
        k = t.shape[2]
        fits = [name for name, v in gen.tensors(lambda v: v.dim() == 3 and v.shape[1] == k
                                                and v.shape[0] == t.shape[0])]
        return f"lib.bmm({a}, {rng.choice(fits) if fits else a + '.mT'})"
    if nd == 1:
        same = [name for name, v in gen.tensors(lambda v: v.dim() == 1)]
        b = rng.choice(same)
        return f"{a}.dot({b})" if rng.random() < 0.5 else f"lib.outer({a}, {b})"
    return None


def _einsum(gen, a, t):
    rng = gen.rng
    nd = t.dim()
    if nd == 0 or nd > 3:
        return None
    letters = "ijk"[:nd]
    r = rng.random()
    if r < 0.3:
        out = "".join(rng.sample(letters, rng.randint(0, nd)))
        return f"lib.einsum('{letters}->{out}', {a})"
    if r < 0.5 and nd >= 2 and t.shape[0] == t.shape[1]:
        return f"lib.einsum('ii{letters[2:]}->i', {a})"
    if r < 0.7:
        return f"lib.einsum('...{letters[-1]}->...', {a})"
    fits = [name for name, v in gen.tensors(lambda v: v.dim() >= 1
                                            and v.shape[0] == t.shape[-1])]
    if not fits:
        return None
    b = rng.choice(fits)
    nb = gen.ns[b].dim()
    rhs = "z" + "pq"[:nb - 1]
    return f"lib.einsum('{letters[:-1]}z,{rhs}->{letters[:-1]}{rhs[1:]}', {a}, {b})"
