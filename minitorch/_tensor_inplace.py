"""In-place tensor operations (a mixin of ``Tensor``): ``add_``, ``mul_``, ``zero_``, ``copy_``,
and augmented assignment (``+=``, ``-=``, ...), which is in place as in PyTorch.

Every op writes into the tensor's storage, so views and aliases see the change, in grad mode too;
``autograd.inplace`` holds the protocol (checks, version bump, rebasing history). The hot ones
(``add_``/``sub_``/``+=`` with a same-dtype operand, ``relu_``) run a Function that writes into the
array directly; the rest compute the op out of place and copy the result in.
"""
import numbers

import numpy as np

from . import _promotion as P
from ._op_args import _check_bool_sub
from .autograd import inplace as I
from .autograd.grad_mode import no_grad
from .autograd.variable import TensorBase
from .ops import inplace as OI
from .kernels import activation as K
from .random import default_generator

__all__ = ["TensorInplace"]


class TensorInplace:
    __slots__ = ()

    def _inplace(self, op, compute, *others, overlap_ok=False):
        """Make ``compute()`` (the op out of place, on this tensor) this tensor's value."""
        I.check_writable(self, op, overlap_ok)
        I.check_overlap(self, op, *others)
        if I.recording(self, *others):
            I.check_inplace(self, op)
            out = compute()
            I.check_result(self, op, out._data.dtype, out.shape)
            return I.assign_result(self, op, out, others)
        with no_grad():
            out = compute()
        I.check_result(self, op, out._data.dtype, out.shape)
        np.copyto(self._data, out._data, casting="unsafe")
        self._bump_version()
        return self

    def _add_inplace(self, op, other, alpha):
        if _same_kind_operand(self, other):
            I.check_writable(self, op)
            I.check_overlap(self, op, other)
            I.check_result(self, op, self._data.dtype, _broadcast_shape(op, self, _array(other)))
            return I.apply_inplace(OI.AddInplace, self, other, alpha=alpha)
        # (sub_ passed -alpha; computed as sub in the promoted dtype: ``other * -1`` in other's
        # own dtype would wrap, uint8 7 * -1 being 249)
        if op == "sub_":
            return self._inplace(op, lambda: self.sub(other, alpha=-alpha), other)
        return self._inplace(op, lambda: self.add(other, alpha=alpha), other)

    def add_(self, other, alpha=1):
        return self._add_inplace("add_", other, alpha)

    def sub_(self, other, alpha=1):
        _check_bool_sub(self, other)  # as x - y: refused with a bool operand, as in torch
        return self._add_inplace("sub_", other, -alpha)

    def mul_(self, other):
        return self._inplace("mul_", lambda: self * other, other)

    def div_(self, other):
        return self._inplace("div_", lambda: self / other, other)

    def pow_(self, exponent):
        return self._inplace("pow_", lambda: self ** exponent, exponent)

    def remainder_(self, other):
        return self._inplace("remainder_", lambda: OI.Remainder.apply(self, other), other)

    def floor_divide_(self, other):
        if I.recording(self, other):
            raise RuntimeError("derivative for floor_divide_ is not implemented")
        return self._inplace("floor_divide_", lambda: self._new(
            np.floor_divide(self._data, _array(other)).astype(self._data.dtype)), other)

    def relu_(self):
        I.check_writable(self, "relu_")
        if not I.recording(self):
            data = self._data
            if data.flags.c_contiguous and data.dtype.kind == "f":
                K.relu_forward(data.reshape(-1), data.reshape(-1))
            else:
                np.maximum(data, 0, out=data)
            self._bump_version()
            return self
        return I.apply_inplace(OI.ReLUInplace, self)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        if isinstance(value, TensorBase) and value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        I.check_writable(self, "fill_", overlap_ok=True)
        if I.recording(self, value):
            return self._inplace("fill_", lambda: OI.Fill.apply(self, value), value,
                                 overlap_ok=True)
        self._data[...] = _array(value) if isinstance(value, TensorBase) else \
            P.checked_scalar(value, self._data.dtype)
        self._bump_version()
        return self

    def copy_(self, src):
        src_data = _array(src)
        I.check_result(self, "copy_", self._data.dtype, _broadcast_shape("copy_", self, src_data))
        if not (isinstance(src, TensorBase) and I.same_layout(self._data, src._data)):
            # (a copy from exactly its own elements is a no-op PyTorch allows, expanded or not)
            I.check_writable(self, "copy_")
            I.check_overlap(self, "copy_", src)
        if I.recording(self, src):
            I.check_inplace(self, "copy_")
            src_t = src if isinstance(src, TensorBase) else self._new(np.asarray(src_data))
            return I.assign_result(self, "copy_", OI.Copy.apply(self, src_t), (src,))
        np.copyto(self._data, src_data, casting="unsafe")
        self._bump_version()
        return self

    def uniform_(self, a=0.0, b=1.0):
        return self._random_fill(default_generator().uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0):
        return self._random_fill(default_generator().normal(mean, std, self.shape))

    def _random_fill(self, values):
        I.check_writable(self, "fill_")
        if I.recording(self):
            return self._inplace("fill_", lambda: OI.Fill.apply(self, values))
        np.copyto(self._data, values, casting="unsafe")
        self._bump_version()
        return self

    # augmented assignment is in place, as in PyTorch (so aliases and `p -= lr * g` see it)
    def __iadd__(self, other): return self.add_(other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)
    def __ifloordiv__(self, other): return self.floor_divide_(other)
    def __imod__(self, other): return self.remainder_(other)
    def __ipow__(self, other): return self.pow_(other)
    # no __imatmul__: PyTorch has none either, so `x @= y` rebinds x to a new tensor


def _array(x):
    return x._data if isinstance(x, TensorBase) else x


def _same_kind_operand(t, other):
    """True when ``t op other`` has ``t``'s dtype for sure: a float tensor with a Python number or
    a tensor of its own dtype (the in-place kernel then needs no promotion)."""
    if isinstance(other, TensorBase):
        return other._data.dtype == t._data.dtype and t._data.dtype.kind == "f"
    return t._data.dtype.kind == "f" and isinstance(other, numbers.Real) \
        and not isinstance(other, np.generic)


def _broadcast_shape(op, t, other):
    try:
        return np.broadcast_shapes(t.shape, np.shape(other))
    except ValueError:
        raise RuntimeError(f"{op}: the shape {list(np.shape(other))} of the operand can't be "
                           f"broadcast to the tensor's shape {list(t.shape)}") from None
