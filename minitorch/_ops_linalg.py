"""Matrix products with torch's argument rules: mm, bmm, dot, mv, outer, addmm, einsum.

mm/bmm/dot/mv check their shapes and dtypes as torch does (messages naming the op) and run the
BLAS-backed ``MatMul`` Function; ``einsum`` parses its equation here ('...' expanded to explicit
letters) and runs ``ops.linalg.Einsum``.
"""
import math
import string

import numpy as np

from . import _promotion as P
from ._registry import declare
from ._op_args import _cast
from .ops import index as X
from .ops import linalg as L
from .ops import matmul as M
from .ops import shape as S

__all__ = ["mm", "bmm", "dot", "vdot", "inner", "mv", "outer", "addmm", "einsum",
           "parse_einsum", "bool_product_error", "check_bool_product"]

_TORCH_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
                "bool": "bool", "float16": "c10::Half", "int16": "short int", "int8": "signed char",
                "uint8": "unsigned char"}


def _same_dtype(a, b, message, kernel="addmm_impl_cpu_"):
    """Refuse mixed dtypes (``message(a's, b's)``) and, naming torch's ``kernel``, bool."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(message(a._data.dtype, b._data.dtype))
    check_bool_product(a, b, kernel)


def check_bool_product(a, b, kernel):
    """torch's refusal of a product of bool tensors, naming the ``kernel`` it reaches; with an
    empty operand torch returns before any kernel (all False), except for dot."""
    if a._data.dtype == np.bool_ and (kernel == "dot" or a._data.size and b._data.size):
        raise bool_product_error(kernel)


def bool_product_error(kernel):
    """torch's error for a product of bool tensors, which names the kernel it reached."""
    return NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _mm_dtype(a, b, kernel="addmm_impl_cpu_"):
    _same_dtype(a, b, lambda x, y: f"expected m1 and m2 to have the same dtype, but got: "
                                   f"{_TORCH_NAMES.get(str(x), x)} != {_TORCH_NAMES.get(str(y), y)}",
                kernel)


@declare()
def mm(input, mat2):
    """The matrix product of two 2-D tensors."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x"
                           f"{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    _mm_dtype(input, mat2)
    return M.MatMul.apply(input, mat2)


@declare()
def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with the same batch size (no broadcasting)."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    want = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != want:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"{want} but got: {list(mat2.shape[:2])}.")
    if input._data.size == 0 or mat2._data.size == 0:  # torch: zeros of batch2's dtype
        input = _cast(input, mat2._data.dtype)
    _mm_dtype(input, mat2, "bmm")
    return M.Bmm.apply(input, mat2)


@declare()
def dot(input, tensor):
    """The inner product of two 1-D tensors of the same size."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    if input.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{tensor.shape[0]}] to have the same number of elements, but got "
                           f"{input.shape[0]} and {tensor.shape[0]} elements respectively")
    _same_dtype(input, tensor, lambda x, y: f"dot : expected both vectors to have same dtype, "
                                            f"but found {_short(x)} and {_short(y)}", "dot")
    return M.MatMul.apply(input, tensor)


@declare()
def vdot(input, other):
    """``dot`` with the first vector conjugated: for the real dtypes here, ``dot``."""
    return dot(input, other)


@declare()
def inner(input, other):
    """The sum of products over the last dimension of both (a 0-d operand: ``input * other``)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if input.ndim == 1 and other.ndim == 1:
        return dot(input, other)
    # (math.prod, not -1: a last dimension of 0 leaves -1 undetermined)
    a = input.reshape(math.prod(input.shape[:-1]), input.shape[-1])
    b = other.reshape(math.prod(other.shape[:-1]), other.shape[-1])
    return mm(a, b.t()).reshape(*input.shape[:-1], *other.shape[:-1])


def _short(dt):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int"}.get(
        str(dt), str(dt))


@declare()
def mv(input, vec):
    """The product of a 2-D matrix and a 1-D vector."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
                           f"{input.shape[1]}), vec ({vec.shape[0]})")
    _same_dtype(input, vec, lambda m, v: f"addmv input tensors must have the same dtype, but "
                                          f"got {_short(v)}, {_short(m)}, and {_short(v)}",
                "addmv_impl_cpu")
    return M.MatMul.apply(input, vec)


@declare(function=("outer", "ger"), method=("outer", "ger"))
def outer(input, vec2):
    """``input[i] * vec2[j]`` for 1-D tensors (types promote as for ``*``)."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return input.reshape(-1, 1) * vec2


@declare()
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape."""
    prod = mm(mat1, mat2)
    if input._data.dtype != mat1._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{_short(input._data.dtype)} and {_short(mat1._data.dtype)}")
    if alpha != 1:
        prod = prod * alpha
    if input.ndim > 2 or any(n not in (1, m) for n, m in zip(input.shape[::-1],
                                                              prod.shape[::-1])):
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: "
                           f"input {list(input.shape)} can't be expanded to the product's "
                           f"{list(prod.shape)}")
    if beta == 0:  # torch ignores input then (its NaN and inf do not propagate)
        return prod
    return prod + (input if beta == 1 else input * beta)


# --------------------------------------------------------------------- einsum
def parse_einsum(equation, shapes):
    """``(input subscripts, output subscripts)`` with explicit letters only: '...' becomes as many
    fresh letters as each operand's broadcast dims need (right-aligned), and an implicit output
    (no '->') is the letters used once, in alphabetical order, after the '...' dims."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for t in terms + [rhs]:
        bad = [c for c in t.replace("...", "") if c not in string.ascii_letters]
        if bad or t.replace("...", "", 1).count(".") or t.count("...") > 1:
            raise RuntimeError(f"einsum(): invalid subscript given in the equation: {t!r}")
    used = set(lhs + rhs)
    fresh = iter(c for c in string.ascii_letters if c not in used)
    n_ell = 0
    for t, shape in zip(terms, shapes):
        named = len(t.replace("...", ""))
        if "..." in t:
            n_ell = max(n_ell, len(shape) - named)
        elif named != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({len(shape)}) for "
                               f"operand {terms.index(t)} and no ellipsis was given")
    ell = "".join(next(fresh) for _ in range(n_ell))
    inputs = []
    for t, shape in zip(terms, shapes):
        if "..." in t:
            k = len(shape) - len(t.replace("...", ""))
            if k < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(t) - 3}) is more than the number of dimensions "
                                   f"({len(shape)}) for operand {terms.index(t)}")
            t = t.replace("...", ell[n_ell - k:])
        inputs.append(t)
    if arrow:
        output = rhs.replace("...", ell)
        for c in rhs.replace("...", ""):
            if c not in lhs:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
    else:
        counts = "".join(inputs)
        output = ell + "".join(sorted(c for c in set(counts) - set(ell) if counts.count(c) == 1))
    _check_sizes(inputs, shapes)
    return tuple(inputs), output


def _check_sizes(inputs, shapes):
    seen = {}
    for i, (sub, shape) in enumerate(zip(inputs, shapes)):
        for c, n in zip(sub, shape):
            if c in seen and n != seen[c] and 1 not in (n, seen[c]):
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {seen[c]}")
            seen[c] = n if c not in seen or seen[c] == 1 else seen[c]


def einsum(equation, *operands):
    """Sums of products over the letters of ``equation`` ("ij,jk->ik", "bij,bjk->bik",
    "...ij->...ji", "ii->i", "ii"), gradients included."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    inputs, output = parse_einsum(equation, [o.shape for o in operands])
    if len(operands) == 1 and set(inputs[0]) == set(output):
        return _einsum_view(operands[0], inputs[0], output)
    return L.Einsum.apply(*_einsum_dtype(operands, inputs, output), inputs=inputs,
                          output=output)


def _einsum_view(x, sub, output):
    """One operand, nothing summed: torch returns a view (diagonals, then a permutation)."""
    letters = list(sub)
    for c in dict.fromkeys(sub):
        while letters.count(c) > 1:
            i = letters.index(c)
            j = letters.index(c, i + 1)
            x = X.Diagonal.apply(x, offset=0, dim1=i, dim2=j)
            letters = [l for k, l in enumerate(letters) if k not in (i, j)] + [c]
    return S.Permute.apply(x, dims=tuple(letters.index(c) for c in output))


def _einsum_dtype(operands, inputs, output):
    """The operands cast to the dtype torch's einsum ends with. torch contracts left to right:
    a letter summed within one operand goes through ``sum`` (ints and bool become int64), a
    letter shared by the running result and the next operand with sizes > 1 through bmm (one
    dtype required, not bool), and a pair with nothing to contract through ``mul`` (promotes).
    An operand with an empty dim short-cuts to zeros of the promoted dtype."""
    arrays = [o._data for o in operands]
    if len(operands) > 1 and any(a.size == 0 for a in arrays):
        dt = P.result_type(*arrays)
    else:
        dt = _contracted_dtype(arrays, inputs, output)
    # (a promoted copy shares the operand's version counter: an in-place change of the operand
    # before backward is caught, as torch, which saves the operand itself)
    return tuple(_cast(o, dt) for o in operands)


def _summed(dt):
    return np.dtype(np.int64) if dt.kind in "biu" else dt


def _contracted_dtype(arrays, inputs, output):
    last = {c: i for i, sub in enumerate(inputs) for c in sub}
    size = [dict(zip(sub, a.shape)) for sub, a in zip(inputs, arrays)]
    acc_dt, acc_size = arrays[0].dtype, dict(size[0])
    if any(last[c] == 0 and c not in output and (len(arrays) == 1 or n != 1)
           for c, n in size[0].items()):
        acc_dt = _summed(acc_dt)
    for i in range(1, len(arrays)):
        b_dt, contracted = arrays[i].dtype, False
        for c in set(inputs[i]) | set(acc_size):
            if last.get(c) != i or c in output:
                continue
            na, nb = acc_size.get(c, 1), size[i].get(c, 1)
            if na == 1 and nb != 1:
                b_dt = _summed(b_dt)
            elif nb == 1 and na != 1:
                acc_dt = _summed(acc_dt)
            elif na != 1:
                contracted = True
        if contracted:
            if acc_dt != b_dt:
                raise RuntimeError(f"expected scalar type {_short(acc_dt)} but found "
                                   f"{_short(b_dt)}")
            if acc_dt == np.bool_:
                raise NotImplementedError('"bmm" not implemented for \'Bool\'')
        else:
            acc_dt = P.result_type(np.empty(1, acc_dt), np.empty(1, b_dt))
        acc_size.update(size[i])
    return acc_dt
