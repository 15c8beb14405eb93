"""``Tensor``: a numpy array plus what autograd needs (requires_grad, grad, grad_fn, versions).

``._data`` is the underlying ``np.ndarray`` (``numpy()`` returns it; ``.data`` is PyTorch's
detached alias, a Tensor sharing the storage). The autograd state (history, version counter,
view bookkeeping) is ``autograd.variable.TensorBase``; this file holds construction, attributes and
conversions. The ops declared in the registry (``_registry``, from ``minitorch/_ops_*.py``) are
installed as methods at the end of this file; the operators and the indexing/view machinery live in
three mixins: ``_tensor_math`` (Python operators), ``_tensor_shape`` (shape ops, indexing) and
``_tensor_inplace``.
"""
import copy
import weakref

import numpy as np

from . import _registry, dtypes
from ._device import CPU, DeviceError, PORTABLE_HINT, parse_to_args
from ._format import format_tensor
from ._size import Size
from ._tensor_inplace import TensorInplace
from ._tensor_math import TensorMath
from ._tensor_shape import TensorShape
from .autograd.backward import backward as _backward
from .autograd.function import Function, legacy_type_name
from .autograd.variable import TensorBase

__all__ = ["Tensor"]


def _legacy_constructor_data(data, sizes):
    """What ``torch.Tensor(...)`` (the legacy constructor) makes of its input: always the default
    float dtype. A float32 array is shared, any other array or Python sequence is converted
    (``Tensor(np.array([1, 2]))`` is float32 ``[1., 2.]``, as in torch; ``mt.tensor`` keeps the
    dtype); ints are sizes (``Tensor(2, 3)``: zeros where torch leaves memory uninitialised); a
    Tensor is aliased whatever its dtype, as torch does."""
    default = dtypes.to_numpy_dtype(dtypes.get_default_dtype())
    if isinstance(data, np.ndarray) and not sizes:
        return data if data.dtype == default else data.astype(default)
    if isinstance(data, TensorBase) and not sizes:
        return data._data
    if isinstance(data, (list, tuple)) and not sizes:
        return np.asarray(data, dtype=default)
    if type(data) is int:  # a Python int, not a numpy scalar
        shape = (data,) + sizes
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
            raise TypeError(f"Tensor(): sizes must be ints, got {shape}")
        return np.zeros(shape, default)
    if sizes:
        raise TypeError(f"Tensor(): sizes must be ints, got {(data,) + sizes}")
    return np.asarray(data, dtype=default)


class Tensor(TensorMath, TensorShape, TensorInplace, TensorBase):
    __slots__ = ("__weakref__", "__dict__")

    def __init__(self, data=(), *sizes, requires_grad: bool = False):
        """The legacy constructor, as ``torch.Tensor(...)``: see ``_legacy_constructor_data``.
        The library makes its tensors with ``_new`` / ``_init_array`` (any dtype, shared)."""
        if isinstance(data, np.ndarray) and sizes:
            raise TypeError("Tensor(): give an array or sizes, not both")
        self._init_array(_legacy_constructor_data(data, sizes), requires_grad)

    def _init_array(self, data: np.ndarray, requires_grad: bool = False):
        """Hold ``data`` itself (its dtype, its storage)."""
        dtypes.from_numpy_dtype(data.dtype)  # TypeError naming an unsupported dtype
        self._init_autograd(data)
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _new(array, requires_grad=False):
        t = Tensor.__new__(Tensor)
        t._init_array(array, requires_grad)
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def data(self) -> "Tensor":
        """PyTorch's ``.data``: a tensor sharing this one's storage, detached from the graph, whose
        in-place changes autograd does not track (its own version counter)."""
        return Tensor._new(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, TensorBase):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def shape(self) -> Size:
        # tuple.__new__ skips Size's argument check: a numpy shape is ints already.
        return tuple.__new__(Size, self._data.shape)

    @property
    def dtype(self):
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def T(self) -> "Tensor":
        return self.permute(tuple(reversed(range(self.ndim))))

    @property
    def device(self):
        """Always ``minitorch.device("cpu")``: minitorch runs on the CPU only."""
        return CPU

    is_cuda = False
    is_cpu = True

    def size(self, dim=None):
        return self.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel  # torch's older name, still common in training scripts

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"a Tensor with {self._data.size} elements cannot be converted to "
                             "Scalar")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __repr__(self):
        suffixes = []
        empty = self._data.size == 0
        if empty and self._data.shape != (0,):
            suffixes.append(f"size={tuple(self._data.shape)}")
        # int64 and bool show in their values, except in an empty tensor: there torch says so
        if self._data.dtype != np.float32 and (empty or self._data.dtype not in (np.int64,
                                                                                  np.bool_)):
            suffixes.append(f"dtype={self.dtype!r}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self._data, suffixes)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is "
                               "ambiguous")
        return bool(self._data)

    def __format__(self, spec):
        # As torch: a 0-d tensor formats like its Python number (f"{loss:.4f}"); any other
        # tensor only with an empty spec (object.__format__ raises torch's TypeError otherwise).
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        _backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                  inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing storage and version counter, outside the graph."""
        out = Tensor._new(self._data)
        out._version_counter = self._version_counter
        return out

    def detach_(self) -> "Tensor":
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def __deepcopy__(self, memo):
        """``copy.deepcopy``: as PyTorch, graph leaves only; the copy has its own storage, the
        class (a Parameter stays one), ``requires_grad``, a deep copy of ``.grad`` and of any
        attributes set on the tensor, but none of its hooks (a fresh leaf)."""
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        new._init_array(np.array(self._data, copy=True))
        new._requires_grad = self._requires_grad
        if self.grad is not None:
            new.grad = copy.deepcopy(self.grad, memo)
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces
        the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, nr = self._edge()

        def on_array(grad):  # the engine passes arrays (Tensors under create_graph)
            return hook(grad if isinstance(grad, TensorBase) else Tensor._new(grad))
        return node.register_prehook(nr, on_array)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self.is_leaf or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def store(grad):
            t = ref()
            if t is not None:
                t.grad = Tensor._new(grad._data.copy()) if t.grad is None else t.grad + grad
        self.register_hook(store)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # ----------------------------------------------------------------- dtype helpers

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to(device, dtype)``, ``to(other)``, with ``non_blocking``/``copy``:
        a device other than the CPU raises ``DeviceError``; ``copy=True`` always copies."""
        _, dtype, copy = parse_to_args(args, kwargs, Tensor)
        if dtype is not None and dtypes.to_numpy_dtype(dtype) != self._data.dtype:
            return self.type(dtype)
        return self.clone() if copy else self

    def type(self, dtype=None, non_blocking=False):
        """``type()``: the legacy type name (``"minitorch.ByteTensor"``); ``type(dtype)`` (a
        dtype or such a name, ``"torch.FloatTensor"`` too): ``to(dtype)``."""
        if dtype is None:
            return f"minitorch.{legacy_type_name(self.dtype.name)}"
        if isinstance(dtype, str) and dtype.rpartition(".")[2] in _BY_LEGACY_NAME:
            dtype = _BY_LEGACY_NAME[dtype.rpartition(".")[2]]
        np_dtype = dtypes.to_numpy_dtype(dtype)
        if np_dtype == self._data.dtype:
            return self
        return _Cast.apply(self, dtype=np_dtype)

    def element_size(self) -> int:
        """Bytes per element (1 for uint8, 4 for float32)."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def cpu(self, memory_format=None):
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        raise DeviceError(f"minitorch runs on the CPU only: .cuda() is not available; "
                          f"{PORTABLE_HINT}, then x.to(device)")

    def is_contiguous(self, memory_format=None) -> bool:
        return self._data.flags.c_contiguous

    def contiguous(self):
        return self if self._data.flags.c_contiguous else _Cast.apply(self, dtype=None)

    def clone(self):
        return _Cast.apply(self, dtype=None)


_BY_LEGACY_NAME = {legacy_type_name(d.name): d for d in dtypes._ALL}


class _Cast(Function):
    node_name = "ToCopyBackward0"

    @staticmethod
    def name_for(is_tensor, arrays, static):  # clone()/contiguous() vs to(dtype)
        return "CloneBackward0" if static.get("dtype") is None else "ToCopyBackward0"

    @staticmethod
    def forward(ctx, a, *, dtype):
        ctx.in_dtype = a.dtype
        return np.array(a, dtype=dtype, copy=True, order="C")

    @staticmethod
    def backward(ctx, grad):
        return grad

    backward_graph = backward  # (the cast back to the input's dtype is done by autograd)


# Every declared op becomes a method (and its in-place form): one declaration, see _registry.
_registry.load_topic_modules()
for _name, _method in _registry.REGISTRY.methods():
    if hasattr(Tensor, _name):
        raise RuntimeError(f"op registry: Tensor.{_name} is both declared and defined in a class")
    setattr(Tensor, _name, _method)
del _name, _method
