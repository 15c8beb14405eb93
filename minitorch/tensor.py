"""``Tensor``: a numpy array plus what autograd needs (requires_grad, grad, grad_fn, versions).

The arithmetic here is thin: each operator picks the result dtype the way PyTorch does, then
calls one ``Function.apply`` from ``minitorch.ops``. ``.data`` is the underlying ``np.ndarray``.
"""
import numbers

import numpy as np

from . import dtypes
from ._format import format_tensor
from .autograd.function import AccumulateGrad
from .autograd.grad_mode import is_grad_enabled, no_grad
from .ops import elementwise as E
from .ops import matmul as M
from .ops import reduce as R
from .ops import shape as S
from .ops import softmax as SM

__all__ = ["Tensor"]


class Tensor:
    __slots__ = ("data", "_requires_grad", "grad", "grad_fn", "_output_nr", "_version_counter",
                 "_accumulate", "_retains_grad", "__weakref__", "__dict__")

    def __init__(self, data, requires_grad: bool = False):
        if not isinstance(data, np.ndarray):
            data = np.asarray(data)
        dtypes.from_numpy_dtype(data.dtype)  # TypeError naming an unsupported dtype
        self.data = data
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_counter = [0]
        self._accumulate = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad = True

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if value and self.data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self.data.dtype)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.ndim)))

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    def _bump_version(self) -> None:
        self._version_counter[0] += 1

    @property
    def device(self) -> str:
        return "cpu"

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted to "
                             "Scalar")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __repr__(self):
        suffixes = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            suffixes.append(f"dtype={self.dtype!r}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self.data, suffixes)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is "
                               "ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # ----------------------------------------------------------------- autograd
    def _edge(self):
        """The graph edge a consumer of this tensor links to."""
        if self.grad_fn is not None:
            return (self.grad_fn, self._output_nr)
        if self._accumulate is None:
            self._accumulate = AccumulateGrad(self)
        return (self._accumulate, 0)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward

        backward(self, gradient, retain_graph=retain_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        out = Tensor(self.data)
        out._version_counter = self._version_counter
        return out

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        the gradient."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, nr = self._edge()
        node.register_prehook(nr, hook)
        return hook

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.is_leaf or self._retains_grad:
            return
        self._retains_grad = True
        import weakref

        ref = weakref.ref(self)

        def store(grad):
            t = ref()
            if t is not None:
                t.grad = Tensor(grad.data.copy()) if t.grad is None else t.grad + grad
        self.register_hook(store)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # ----------------------------------------------------------------- dtype helpers
    def _binary(self, other, fn, reverse=False, true_div=False):
        a, b = _promote(self, other, true_div)
        if reverse:
            a, b = b, a
        _check_broadcast(fn.__name__.lower(), np.shape(a.data if isinstance(a, Tensor) else a),
                         np.shape(b.data if isinstance(b, Tensor) else b))
        return fn.apply(a, b)

    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(np.asarray(op(self.data, other)))

    def to(self, dtype=None, *args, **kwargs):
        if dtype is None or isinstance(dtype, str) and dtype == "cpu":
            return self
        return self.type(dtype)

    def type(self, dtype):
        np_dtype = dtypes.to_numpy_dtype(dtype)
        if np_dtype == self.data.dtype:
            return self
        return _Cast.apply(self, dtype=np_dtype)

    def float(self):
        return self.type(dtypes.float32)

    def double(self):
        return self.type(dtypes.float64)

    def long(self):
        return self.type(dtypes.int64)

    def bool(self):
        return self.type(dtypes.bool)

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def cpu(self):
        return self

    def contiguous(self):
        return self if self.data.flags.c_contiguous else _Cast.apply(self, dtype=None)

    def clone(self):
        return _Cast.apply(self, dtype=None)

    # ----------------------------------------------------------------- operators
    def __add__(self, o): return self._binary(o, E.Add)
    def __radd__(self, o): return self._binary(o, E.Add, reverse=True)
    def __sub__(self, o): return self._binary(o, E.Sub)
    def __rsub__(self, o): return self._binary(o, E.Sub, reverse=True)
    def __mul__(self, o): return self._binary(o, E.Mul)
    def __rmul__(self, o): return self._binary(o, E.Mul, reverse=True)
    def __truediv__(self, o): return self._binary(o, E.Div, true_div=True)
    def __rtruediv__(self, o): return self._binary(o, E.Div, reverse=True, true_div=True)
    def __pow__(self, o): return self._binary(o, E.Pow)
    def __rpow__(self, o): return self._binary(o, E.Pow, reverse=True)
    def __matmul__(self, o): return _matmul(*_promote(self, o))
    def __rmatmul__(self, o): return _matmul(*reversed(_promote(self, o)))
    def __neg__(self): return E.Neg.apply(self)
    def __pos__(self): return self
    def __abs__(self): return self.abs()
    def __eq__(self, o): return self._compare(o, np.equal)
    def __ne__(self, o): return self._compare(o, np.not_equal)
    def __lt__(self, o): return self._compare(o, np.less)
    def __le__(self, o): return self._compare(o, np.less_equal)
    def __gt__(self, o): return self._compare(o, np.greater)
    def __ge__(self, o): return self._compare(o, np.greater_equal)
    def __invert__(self): return Tensor(np.invert(self.data))
    def __and__(self, o): return self._compare(o, np.bitwise_and)
    def __or__(self, o): return self._compare(o, np.bitwise_or)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    matmul = __matmul__
    neg = __neg__
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def pow(self, exponent): return self.__pow__(exponent)
    def exp(self): return E.Exp.apply(self)
    def log(self): return E.Log.apply(self)
    def sqrt(self): return E.Sqrt.apply(self)
    def abs(self): return E.Abs.apply(self)
    def tanh(self): return E.Tanh.apply(self)
    def sigmoid(self): return E.Sigmoid.apply(self)

    def relu(self):
        from .nn import functional as F

        return F.relu(self)

    def maximum(self, other): return self._binary(other, E.Maximum)
    def minimum(self, other): return self._binary(other, E.Minimum)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def softmax(self, dim):
        return SM.Softmax.apply(self, dim=dim)

    def log_softmax(self, dim):
        return SM.LogSoftmax.apply(self, dim=dim)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        t = self.type(dtype) if dtype is not None else self
        if t.data.dtype.kind in "biu":
            t = t.type(dtypes.int64)
        return R.Sum.apply(t, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if self.data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {self.dtype}")
        return R.Mean.apply(self, dim=_dims(dim, self.ndim), keepdim=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        ddof = correction if correction is not None else int(unbiased)
        mu = self.mean(dim, keepdim=True)
        n = self.numel() if dim is None else int(np.prod([self.shape[d] for d in _as_tuple(dim)]))
        return ((self - mu) ** 2).sum(dim, keepdim=keepdim) / max(n - ddof, 0)

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return R.MaxAll.apply(self)
        return _values_indices(R.MaxDim.apply(self, dim=_dim(dim, self.ndim), keepdim=keepdim))

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return R.MinAll.apply(self)
        return _values_indices(R.MinDim.apply(self, dim=_dim(dim, self.ndim), keepdim=keepdim))

    def argmax(self, dim=None, keepdim=False):
        return _arg(self.data, np.argmax, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _arg(self.data, np.argmin, dim, keepdim)

    def all(self):
        return Tensor(np.asarray(np.all(self.data)))

    def any(self):
        return Tensor(np.asarray(np.any(self.data)))

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        shape = _shape_args(shape)
        try:
            _check_reshape(self.shape, shape)
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        return S.Reshape.apply(self, shape=shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dim(start_dim, self.ndim), _dim(end_dim, self.ndim)
        shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = tuple(_dim(d, self.ndim) for d in _shape_args(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of {self.ndim} dims")
        return S.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        d0, d1 = _dim(dim0, self.ndim), _dim(dim1, self.ndim)
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return S.Permute.apply(self, dims=tuple(dims))

    def t(self):
        return self.transpose(0, 1) if self.ndim == 2 else self

    def unsqueeze(self, dim):
        return S.Unsqueeze.apply(self, dim=_dim(dim, self.ndim + 1))

    def squeeze(self, dim=None):
        dim = None if dim is None else tuple(_dim(d, self.ndim) for d in _as_tuple(dim))
        return S.Squeeze.apply(self, dim=dim)

    def expand(self, *sizes):
        sizes = _shape_args(sizes)
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise RuntimeError(f"expand: the shape {self.shape} cannot be expanded to "
                               f"{tuple(sizes)}") from None
        return S.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, key):
        key = _index_key(key)
        fn = S.Index if _is_advanced(key) else S.Slice
        return fn.apply(self, key=key)

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        if is_grad_enabled() and (self.requires_grad or
                                  isinstance(value, Tensor) and value.requires_grad):
            raise RuntimeError("item assignment on a tensor that is part of the autograd graph is "
                               "not supported; use torch.where or build a new tensor")
        self.data[_index_key(key)] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    # ----------------------------------------------------------------- in place
    def _check_inplace(self, op):
        if self.is_leaf and self.requires_grad and is_grad_enabled():
            raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                               f"operation ({op}). Wrap it in `with minitorch.no_grad():` or "
                               "use the out-of-place form.")

    def _inplace(self, op, result_fn, other=None):
        """Run ``result_fn()`` (an out-of-place op) and make its result this tensor's value."""
        self._check_inplace(op)
        other_grad = isinstance(other, Tensor) and other.requires_grad
        if is_grad_enabled() and (self.requires_grad or other_grad):
            out = result_fn()
            # Rebase history as PyTorch does: this tensor now stands for the op's output. The old
            # array, possibly saved by earlier nodes, is left untouched, so it keeps the old
            # version counter and this tensor starts a new one.
            self.data = out.data.astype(self.data.dtype, copy=False)
            self.grad_fn, self._output_nr = out.grad_fn, out._output_nr
            self._requires_grad = out.requires_grad
            self._version_counter = [self._version + 1]
            return self
        with no_grad():
            out = result_fn()
        np.copyto(self.data, out.data, casting="unsafe")
        self._bump_version()
        return self

    def add_(self, other, alpha=1):
        return self._inplace("add_", lambda: self + (other * alpha if alpha != 1 else other),
                             other)

    def sub_(self, other, alpha=1):
        return self._inplace("sub_", lambda: self - (other * alpha if alpha != 1 else other),
                             other)

    def mul_(self, other):
        return self._inplace("mul_", lambda: self * other, other)

    def div_(self, other):
        return self._inplace("div_", lambda: self / other, other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda: self ** exponent)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", lambda: self.clamp(min, max))

    def relu_(self):
        return self._inplace("relu_", lambda: self.relu())

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        self.data[...] = value.data if isinstance(value, Tensor) else value
        self._bump_version()
        return self

    def copy_(self, src):
        src_data = src.data if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.broadcast_to(src_data, self.shape)
        except ValueError:
            raise RuntimeError(f"copy_: the source shape {tuple(np.shape(src_data))} cannot be "
                               f"broadcast to the destination shape {self.shape}") from None
        return self._inplace("copy_", lambda: _Copy.apply(self, src if isinstance(src, Tensor)
                                                          else src_data), src)

    def uniform_(self, a=0.0, b=1.0):
        from .random import default_generator

        return self.fill_(default_generator().uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0):
        from .random import default_generator

        return self.fill_(default_generator().normal(mean, std, self.shape))


# ----------------------------------------------------------------- small Functions
from .autograd.function import Function  # noqa: E402


class _Cast(Function):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, *, dtype):
        ctx.in_dtype = a.dtype
        return np.array(a, dtype=dtype, copy=True, order="C")

    @staticmethod
    def backward(ctx, grad):
        return grad


class _Copy(Function):
    """``dst.copy_(src)``: the result has src's values (broadcast), dst gets no gradient."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        return np.array(np.broadcast_to(src, dst.shape), dtype=dst.dtype)

    @staticmethod
    def backward(ctx, grad):
        return None, grad


# ----------------------------------------------------------------- helpers
def _promote(a, b, true_div=False):
    """PyTorch's type promotion for ``a op b`` (a is a Tensor; b a Tensor or Python scalar)."""
    if isinstance(b, Tensor):
        da, db = a.data.dtype, b.data.dtype
        if da == db:
            dt = da
        elif da.kind == "f" and db.kind != "f":
            dt = da
        elif db.kind == "f" and da.kind != "f":
            dt = db
        else:
            dt = np.promote_types(da, db)
        if true_div and dt.kind != "f":
            dt = np.dtype(np.float32)
        return (a if da == dt else a.type(dt)), (b if db == dt else b.type(dt))
    if isinstance(b, np.ndarray):
        return _promote(a, Tensor(b), true_div)
    if not isinstance(b, (numbers.Number, np.generic)):
        raise TypeError(f"unsupported operand type for a Tensor op: {type(b).__name__}")
    da = a.data.dtype
    if da.kind == "f":
        dt = da
    elif isinstance(b, (float, np.floating)):
        dt = np.dtype(np.float32)
    elif da.kind == "b" and not isinstance(b, (bool, np.bool_)):
        dt = np.dtype(np.int64)
    else:
        dt = da
    if true_div and dt.kind != "f":
        dt = np.dtype(np.float32)
    return (a if da == dt else a.type(dt)), np.asarray(b, dtype=dt)


def _check_broadcast(op, sa, sb):
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast "
                         "together") from None


def _matmul(a, b):
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"({k_a} != {k_b})")
    return M.MatMul.apply(a, b)


def _dim(d, ndim):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return d % n


def _as_tuple(d):
    return tuple(d) if isinstance(d, (tuple, list)) else (d,)


def _dims(dim, ndim):
    if dim is None:
        return None
    dims = tuple(_dim(d, ndim) for d in _as_tuple(dim))
    return dims[0] if len(dims) == 1 else dims


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _check_reshape(old, new):
    size = int(np.prod(old))
    known = int(np.prod([s for s in new if s != -1]))
    if new.count(-1) > 1:
        raise ValueError("only one dimension can be inferred")
    if (-1 in new and (known == 0 or size % known)) or (-1 not in new and known != size):
        raise ValueError(f"shape '{list(new)}' is invalid for input of size {size}")


def _values_indices(pair):
    from .autograd import values_indices

    return values_indices(*pair)


def _arg(data, fn, dim, keepdim):
    if dim is None:
        return Tensor(np.asarray(fn(data), dtype=np.int64))
    out = fn(data, axis=dim)
    if keepdim:
        out = np.expand_dims(out, dim)
    return Tensor(np.asarray(out, dtype=np.int64))


def _index_key(key):
    """Turn Tensors inside an index into arrays (and lists into integer arrays)."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list):
        return np.asarray(key)
    return key


def _is_advanced(key):
    keys = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, np.ndarray) for k in keys)
