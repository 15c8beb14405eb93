"""The op registry: each op is declared once, and its public forms are built from that declaration.

How to add an op
----------------
1. Write it once, in the topic module it belongs to (``minitorch/_ops_math.py``,
   ``_ops_reduce.py``, ``_ops_index.py``, ...; any ``minitorch/_ops_*.py`` is loaded by
   ``tensor.py``): a module-level function taking the input tensor first, which checks its
   arguments (errors name the op and the culprit) and calls one ``Function.apply`` from
   ``minitorch/ops``::

       @declare(inplace="exp_")
       def exp(input):
           return E.Exp.apply(_as_float(input))

   That one declaration gives ``Tensor.exp`` (the function itself: no wrapper on the method
   path), ``mt.exp``, and the in-place method ``Tensor.exp_`` (the op computed out of place and
   written into the tensor's storage by the in-place protocol: checks, version bump, history).
2. Add one row to the op table (``tests/ops/op_table.py``): forward vs numpy, float64 gradcheck
   and live parity with torch run from it.

``declare`` arguments (each a name, a tuple of names for aliases, True for the function's own
name, or None/False for none):

- ``method=True``: the Tensor method name(s);
- ``function=True``: the ``mt.`` function name(s), e.g. ``function=("cat", "concatenate")``;
- ``functional=None``: the ``nn.functional`` name(s);
- ``inplace=None``: the in-place method name(s), e.g. ``"exp_"``;
- ``scalar_input=False``: the function form accepts a Python number as ``input`` and wraps it
  as a 0-d tensor (torch does so for ``add``/``sub``/``mul``/``div``/``pow``...: ``mt.add(2, t)``);
  any other non-tensor ``input`` is a TypeError naming the op, as in torch;
- ``sequence_input=False``: ``input`` is a sequence of tensors (``cat``, ``stack``), which the
  op checks itself;
- ``out=True``: the function form takes ``out=`` (the result written into the given tensor
  with torch's resize and cast rules; refused when an argument requires grad, as in torch).

The registry sits below Tensor and never imports it: ``tensor.py`` installs the methods on its
class, ``functions.py`` and ``nn/functional.py`` build their entries with ``functions()`` /
``functional()``, handing over how to make a tensor of a scalar.
"""
import importlib
import inspect
import numbers
import pkgutil
import warnings

import numpy as np

from .autograd.grad_mode import is_grad_enabled

__all__ = ["Op", "Registry", "REGISTRY", "declare", "load_topic_modules"]


def _names(value, default):
    if value is None or value is False:
        return ()
    if value is True:
        return (default,)
    if isinstance(value, str):
        return (value,)
    return tuple(value)


class Op:
    """One declared op: the function and its public names."""

    __slots__ = ("fn", "name", "methods", "functions", "functionals", "inplaces",
                 "scalar_input", "sequence_input", "out", "takes_dtype")

    def __init__(self, fn, method, function, functional, inplace, scalar_input, out,
                 sequence_input=False):
        self.fn = fn
        self.name = fn.__name__
        self.methods = _names(method, self.name)
        self.functions = _names(function, self.name)
        self.functionals = _names(functional, self.name)
        self.inplaces = _names(inplace, self.name + "_")
        self.scalar_input = scalar_input
        self.sequence_input = sequence_input
        self.out = out
        self.takes_dtype = "dtype" in inspect.signature(fn).parameters


class Registry:
    """An ordered collection of declared ops (``REGISTRY`` is minitorch's; tests make their own)."""

    def __init__(self):
        self.ops = []

    def declare(self, method=True, function=True, functional=None, inplace=None, *,
                scalar_input=False, out=True, sequence_input=False):
        def register(fn):
            self.ops.append(Op(fn, method, function, functional, inplace, scalar_input, out,
                               sequence_input))
            return fn
        return register

    def _check_unique(self, attr, kind):
        seen = {}
        for op in self.ops:
            for name in getattr(op, attr):
                if name in seen:
                    raise RuntimeError(f"op registry: {kind} {name!r} is declared twice "
                                       f"({seen[name]} and {op.fn.__module__})")
                seen[name] = op.fn.__module__

    def methods(self):
        """(name, callable) of every Tensor method: the declared functions and in-place forms."""
        self._check_unique("methods", "method")
        self._check_unique("inplaces", "in-place method")
        out = []
        for op in self.ops:
            out += [(name, op.fn) for name in op.methods]
            out += [(name, _inplace_method(op.fn, name)) for name in op.inplaces]
        return out

    def functions(self, to_tensor):
        """{name: function} of the ``mt.`` functions; ``to_tensor(number)`` makes a 0-d tensor."""
        self._check_unique("functions", "function")
        return {name: _function(op, name, to_tensor) for op in self.ops for name in op.functions}

    def functional(self, to_tensor):
        """{name: function} of the ``nn.functional`` entries."""
        self._check_unique("functionals", "functional")
        return {name: _function(op, name, to_tensor) for op in self.ops
                for name in op.functionals}


REGISTRY = Registry()
declare = REGISTRY.declare


def load_topic_modules(package="minitorch"):
    """Import every ``<package>/_ops_*.py`` (sorted, so the order is the same on every run): each
    registers its declarations on import. New topic modules need no edit anywhere else."""
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_ops_"):
            importlib.import_module(f"{package}.{info.name}")


# ----------------------------------------------------------------------------- builders
def _inplace_method(fn, name):
    """``t.<name>(...)``: ``fn(t, ...)`` computed out of place and written into ``t``'s storage
    (``Tensor._inplace``: PyTorch's checks, version bump, rebased history)."""
    def method(self, *args, **kwargs):
        return self._inplace(name, lambda: fn(self, *args, **kwargs), *args, *kwargs.values())
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place form of ``{fn.__name__}``."
    return method


def _is_tensor(x):
    # (duck-typed: the registry sits below Tensor) every tensor has an ndarray ``_data``
    return isinstance(getattr(x, "_data", None), np.ndarray)


def _function(op, name, to_tensor):
    """The function form: ``input`` checked (or a number wrapped, for ``scalar_input`` ops), then
    the declared function; with ``out=`` the result is written into the given tensor."""
    fn = op.fn

    def function(input, *args, out=None, **kwargs):  # noqa: A002 - PyTorch's name
        if not _is_tensor(input) and not op.sequence_input:
            if op.scalar_input and isinstance(input, numbers.Number):
                input = to_tensor(input)
            else:
                raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                                f"{type(input).__name__}")
        if out is None:
            return fn(input, *args, **kwargs)
        if not op.out:
            raise TypeError(f"{name}() got an unexpected keyword argument 'out'")
        _check_out(name, out, (input, *args, *kwargs.values()))
        if op.takes_dtype and kwargs.get("dtype") is None:
            kwargs["dtype"] = out.dtype  # torch: a reduction into out= computes in its dtype
        return write_out(name, fn(input, *args, **kwargs), out)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = fn.__doc__
    function.__wrapped__ = fn
    return function


def _check_out(name, out, args):
    if not _is_tensor(out):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and any(_is_tensor(a) and a.requires_grad for a in (out, *args)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


def write_out(name, result, out):
    """torch's ``out=``: ``out`` takes the result's shape (resized, with torch's warning, if it
    has elements and another shape) and its values, cast to ``out``'s dtype where torch allows
    the cast (same kind or wider); returns ``out``, outside any graph."""
    src, dst = result._data.dtype, out._data.dtype
    if src != dst and not np.can_cast(src, dst, "same_kind"):
        raise RuntimeError(f"{name}: result type {_TYPE.get(str(src), src)} can't be cast to the "
                           f"desired output type {_TYPE.get(str(dst), dst)}")
    if out.shape != result.shape:
        if out._data.size:
            warnings.warn(f"{name}: an output with one or more elements was resized since it had "
                          f"shape {list(out.shape)}, which does not match the required output "
                          f"shape {list(result.shape)}", UserWarning, stacklevel=3)
        out._data = np.empty(result.shape, dst)  # (new storage, as torch's resize_ of a tensor)
    np.copyto(out._data, result._data, casting="unsafe")
    out._bump_version()
    return out


_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
         "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
