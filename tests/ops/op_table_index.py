"""Op-table rows for the shape, indexing and linear-algebra ops (the format of op_table.py; that
file concatenates this ``OPS``). Each lambda works for any input rank >= 1 (the gradcheck draws
1-3 dims of size 1-4) and, where it only calls tensor methods, for torch and minitorch alike;
index tensors are made by ``_like(a, array)`` in the library of ``a``.
"""
import numpy as np

import minitorch as mt


def _torch():
    return __import__("torch")


def _like(a, array):
    """``array`` as a tensor of ``a``'s library (minitorch or torch)."""
    if isinstance(a, mt.Tensor):
        return mt.tensor(array)
    return _torch().as_tensor(np.asarray(array))


def _cat(a, parts, dim):
    return mt.cat(parts, dim) if isinstance(a, mt.Tensor) else _torch().cat(parts, dim)


def _stack(a, parts):
    return mt.stack(parts) if isinstance(a, mt.Tensor) else _torch().stack(parts)


def _lib(a):
    return mt if isinstance(a, mt.Tensor) else _torch()


def _weighted(a, parts, dim=-1):
    """The pieces of a split, each times its position + 1, put back together: every piece's
    gradient is distinct, so a piece sent to the wrong place shows."""
    return _cat(a, [p * (i + 1) for i, p in enumerate(parts)], dim)


def _split_ref(a, size):
    return a * (np.arange(a.shape[-1]) // size + 1)


def _gather_idx(shape):
    """An int64 index of ``shape`` with repeats along the last dim (values < its size)."""
    n = shape[-1]
    return (np.arange(int(np.prod(shape))).reshape(shape) * 7 + 1) % n


def _perm_idx(shape, m):
    """The first ``m`` positions of a permutation of the last dim: no position twice."""
    n = shape[-1]
    rows = [np.roll(np.arange(n), k)[:m] for k in range(int(np.prod(shape[:-1])))]
    return np.array(rows, dtype=np.int64).reshape(shape[:-1] + (m,))


def _half(a):
    return max(1, a.shape[-1] // 2)


def _scatter_ref(a, b):
    out = a.copy()
    m = _half(a)
    np.put_along_axis(out, _perm_idx(a.shape, m), b[..., :m], -1)
    return out


def _scatter_value_ref(a):
    out = a.copy()
    np.put_along_axis(out, _perm_idx(a.shape, 1), 1.5, -1)
    return out


def _scatter_add_ref(a, b):
    out = a.copy()
    idx = _gather_idx(a.shape)
    grids = list(np.ogrid[tuple(slice(0, n) for n in idx.shape)])
    grids[-1] = idx
    np.add.at(out, tuple(grids), b)
    return out


def _mat(a):
    return a.reshape(a.shape[0], -1)


def _matrix_ref(a):
    return a.reshape(a.shape[0], -1)


OPS = [
    # views: split and friends (their pieces reassembled), narrow, movedim, diagonal, unfold
    ("split", 1, lambda a: _weighted(a, a.split(2, -1)), lambda a: _split_ref(a, 2),
     lambda a: _weighted(a, a.split(2, -1)), "any"),
    ("split_sizes", 1, lambda a: _weighted(a, a.split([1, a.shape[-1] - 1], -1)),
     lambda a: a * np.minimum(np.arange(a.shape[-1]), 1) + a,
     lambda a: _weighted(a, a.split([1, a.shape[-1] - 1], -1)), "any"),
    ("chunk", 1, lambda a: _weighted(a, a.chunk(2, -1)),
     lambda a: _split_ref(a, -(-a.shape[-1] // 2)), lambda a: _weighted(a, a.chunk(2, -1)),
     "any"),
    ("tensor_split", 1, lambda a: _weighted(a, a.tensor_split(2, -1)),
     lambda a: _split_ref(a, -(-a.shape[-1] // 2)),
     lambda a: _weighted(a, a.tensor_split(2, -1)), "any"),
    ("unbind", 1, lambda a: _stack(a, [p * (i + 1) for i, p in enumerate(a.unbind(0))]),
     lambda a: a * (np.arange(a.shape[0]) + 1).reshape((-1,) + (1,) * (a.ndim - 1)),
     lambda a: _stack(a, [p * (i + 1) for i, p in enumerate(a.unbind(0))]), "any"),
    ("narrow", 1, lambda a: a.narrow(-1, a.shape[-1] // 2, 1),
     lambda a: a[..., a.shape[-1] // 2:a.shape[-1] // 2 + 1],
     lambda a: a.narrow(-1, a.shape[-1] // 2, 1), "any"),
    ("movedim", 1, lambda a: a.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1),
     lambda a: a.movedim(0, -1), "any"),
    ("diagonal", 1, lambda a: _mat(a).diagonal(), lambda a: np.diagonal(_matrix_ref(a)).copy(),
     lambda a: _mat(a).diagonal(), "any"),
    ("diagonal_offset", 1, lambda a: a.unsqueeze(-1).diagonal(-1, -1, 0),
     lambda a: np.diagonal(a[..., None], -1, -1, 0).copy(),
     lambda a: a.unsqueeze(-1).diagonal(-1, -1, 0), "any"),
    # overlapping windows along the last dim (their gradients add up), every other row of dim 0
    ("unfold", 1, lambda a: a.unfold(-1, min(2, a.shape[-1]), 1),
     lambda a: np.lib.stride_tricks.sliding_window_view(a, min(2, a.shape[-1]), -1),
     lambda a: a.unfold(-1, min(2, a.shape[-1]), 1), "any"),
    ("unfold_step", 1, lambda a: a.unfold(0, 1, 2), lambda a: a[::2][..., None],
     lambda a: a.unfold(0, 1, 2), "any"),
    ("mT", 1, lambda a: a.unsqueeze(0).mT, lambda a: np.swapaxes(a[None], -1, -2),
     lambda a: a.unsqueeze(0).mT, "any"),
    # gather / scatter / index_select / masks
    ("gather", 1, lambda a: a.gather(-1, _like(a, _gather_idx(a.shape))),
     lambda a: np.take_along_axis(a, _gather_idx(a.shape), -1),
     lambda a: a.gather(-1, _like(a, _gather_idx(a.shape))), "any"),
    ("scatter", 2, lambda a, b: a.scatter(-1, _like(a, _perm_idx(a.shape, _half(a))),
                                          b[..., :_half(a)]),
     _scatter_ref, lambda a, b: a.scatter(-1, _like(a, _perm_idx(a.shape, _half(a))),
                                          b[..., :_half(a)]), "any"),
    ("scatter_value", 1, lambda a: a.scatter(-1, _like(a, _perm_idx(a.shape, 1)), 1.5),
     _scatter_value_ref, lambda a: a.scatter(-1, _like(a, _perm_idx(a.shape, 1)), 1.5), "any"),
    ("scatter_add", 2, lambda a, b: a.scatter_add(-1, _like(a, _gather_idx(a.shape)), b),
     _scatter_add_ref, lambda a, b: a.scatter_add(-1, _like(a, _gather_idx(a.shape)), b),
     "any"),
    ("index_select", 1, lambda a: a.index_select(-1, _like(a, [a.shape[-1] - 1, 0, 0])),
     lambda a: a[..., [a.shape[-1] - 1, 0, 0]],
     lambda a: a.index_select(-1, _like(a, [a.shape[-1] - 1, 0, 0])), "any"),
    ("masked_fill", 1, lambda a: a.masked_fill(a > 0, 2.0), lambda a: np.where(a > 0, 2.0, a),
     lambda a: a.masked_fill(a > 0, 2.0), "apart"),
    ("masked_fill_tensor", 2, lambda a, b: a.masked_fill(a > 0, b.sum()),
     lambda a, b: np.where(a > 0, b.sum(), a), lambda a, b: a.masked_fill(a > 0, b.sum()),
     "apart"),
    ("masked_select", 1, lambda a: a.masked_select(a > 0), lambda a: a[a > 0],
     lambda a: a.masked_select(a > 0), "apart"),
    ("where_method", 2, lambda a, b: a.where(a > b, b), lambda a, b: np.where(a > b, a, b),
     lambda a, b: a.where(a > b, b), "apart"),
    # sorting
    ("sort", 1, lambda a: a.sort(-1).values, lambda a: np.sort(a, -1),
     lambda a: a.sort(-1).values, "apart"),
    ("sort_descending", 1, lambda a: a.sort(0, descending=True)[0],
     lambda a: -np.sort(-a, 0), lambda a: a.sort(0, descending=True)[0], "apart"),
    ("topk", 1, lambda a: a.topk(1).values, lambda a: a.max(-1, keepdims=True),
     lambda a: a.topk(1).values, "apart"),
    ("topk_smallest", 1, lambda a: a.topk(a.shape[0], 0, largest=False)[0],
     lambda a: np.sort(a, 0), lambda a: a.topk(a.shape[0], 0, largest=False)[0], "apart"),
    # reordering, tiling, triangles
    ("flip", 1, lambda a: a.flip(0), lambda a: np.flip(a, 0), lambda a: a.flip(0), "any"),
    ("flip_all", 1, lambda a: a.flip(list(range(a.ndim))), lambda a: np.flip(a),
     lambda a: a.flip(list(range(a.ndim))), "any"),
    ("roll", 1, lambda a: a.roll(1, -1), lambda a: np.roll(a, 1, -1), lambda a: a.roll(1, -1),
     "any"),
    ("roll_flat", 1, lambda a: a.roll(-2), lambda a: np.roll(a, -2), lambda a: a.roll(-2),
     "any"),
    ("repeat", 1, lambda a: a.repeat(2, 3, *[1] * (a.ndim - 1)),
     lambda a: np.tile(a, (2, 3) + (1,) * (a.ndim - 1)),
     lambda a: a.repeat(2, 3, *[1] * (a.ndim - 1)), "any"),
    ("tile", 1, lambda a: a.tile((2,)), lambda a: np.tile(a, 2), lambda a: a.tile((2,)), "any"),
    ("repeat_interleave", 1, lambda a: a.repeat_interleave(2, dim=-1),
     lambda a: np.repeat(a, 2, -1), lambda a: a.repeat_interleave(2, dim=-1), "any"),
    ("tril", 1, lambda a: _mat(a).tril(), lambda a: np.tril(_matrix_ref(a)),
     lambda a: _mat(a).tril(), "any"),
    ("triu", 1, lambda a: _mat(a).triu(1), lambda a: np.triu(_matrix_ref(a), 1),
     lambda a: _mat(a).triu(1), "any"),
    ("diag_embed", 1, lambda a: a.flatten().diag(1), lambda a: np.diag(a.ravel(), 1),
     lambda a: a.flatten().diag(1), "any"),
    ("diag", 1, lambda a: _mat(a).diag(), lambda a: np.diag(_matrix_ref(a)),
     lambda a: _mat(a).diag(), "any"),
    # linear algebra
    ("mm", 2, lambda a, b: _mat(a).mm(_mat(b).t()),
     lambda a, b: _matrix_ref(a) @ _matrix_ref(b).T, lambda a, b: _mat(a).mm(_mat(b).t()),
     "any"),
    ("bmm", 2, lambda a, b: a.reshape(a.shape[0], 1, -1).bmm(b.reshape(b.shape[0], -1, 1)),
     lambda a, b: a.reshape(a.shape[0], 1, -1) @ b.reshape(b.shape[0], -1, 1),
     lambda a, b: a.reshape(a.shape[0], 1, -1).bmm(b.reshape(b.shape[0], -1, 1)), "any"),
    ("dot", 2, lambda a, b: a.flatten().dot(b.flatten()), lambda a, b: np.dot(a.ravel(),
                                                                              b.ravel()),
     lambda a, b: a.flatten().dot(b.flatten()), "any"),
    ("mv", 2, lambda a, b: _mat(a).mv(_mat(b)[0]), lambda a, b: _matrix_ref(a) @ _matrix_ref(b)[0],
     lambda a, b: _mat(a).mv(_mat(b)[0]), "any"),
    ("outer", 2, lambda a, b: a.flatten().outer(b.flatten()),
     lambda a, b: np.outer(a.ravel(), b.ravel()), lambda a, b: a.flatten().outer(b.flatten()),
     "any"),
    ("addmm", 2, lambda a, b: _lib(a).addmm(b.flatten()[0], _mat(a), _mat(b).t(), beta=0.5,
                                            alpha=2.0),
     lambda a, b: 0.5 * b.ravel()[0] + 2.0 * (_matrix_ref(a) @ _matrix_ref(b).T),
     lambda a, b: _lib(a).addmm(b.flatten()[0], _mat(a), _mat(b).t(), beta=0.5, alpha=2.0),
     "any"),
    ("einsum_contract", 2, lambda a, b: _lib(a).einsum("i...,i...->...", a, b),
     lambda a, b: (a * b).sum(0), lambda a, b: _lib(a).einsum("i...,i...->...", a, b), "any"),
    ("einsum_diagonal", 2, lambda a, b: _lib(a).einsum(
        "ii->i", _lib(a).einsum("i,j->ij", a.flatten(), b.flatten())),
     lambda a, b: a.ravel() * b.ravel(), lambda a, b: _lib(a).einsum(
        "ii->i", _lib(a).einsum("i,j->ij", a.flatten(), b.flatten())), "any"),
    ("einsum_trace", 1, lambda a: _lib(a).einsum("ii", _mat(a)[:, :1] * _mat(a)[:, :1].t()),
     lambda a: (_matrix_ref(a)[:, 0] ** 2).sum(),
     lambda a: _lib(a).einsum("ii", _mat(a)[:, :1] * _mat(a)[:, :1].t()), "any"),
    ("einsum_implicit", 1, lambda a: _lib(a).einsum("ij", _mat(a).t()),
     lambda a: _matrix_ref(a).T, lambda a: _lib(a).einsum("ij", _mat(a).t()), "any"),
]

# Functions in ops/index.py and ops/linalg.py, each with the rows that cover it.
COVERED = {"Gather": "gather", "IndexSelect": "index_select", "MaskedSelect": "masked_select", "Scatter": "scatter", "ScatterAdd": "scatter_add", "Flip": "flip",
           "Roll": "roll", "Repeat": "repeat", "Triangle": "tril", "Diagonal": "diagonal",
           "DiagEmbed": "diag_embed", "Einsum": "einsum_contract"}
