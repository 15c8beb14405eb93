"""In-place tensor operations (a mixin of ``Tensor``): ``add_``, ``mul_``, ``zero_``, ``copy_``...

Each bumps the tensor's version counter, so backward can tell when a tensor it saved changed.
"""
import numpy as np

from .autograd.function import Function
from .autograd.grad_mode import is_grad_enabled, no_grad

__all__ = ["TensorInplace"]

Tensor = None  # the Tensor class, set by minitorch.tensor (which builds it from this mixin)


class TensorInplace:
    __slots__ = ()

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
            self._data = out._data.astype(self._data.dtype, copy=False)
            self.grad_fn, self._output_nr = out.grad_fn, out._output_nr
            self._requires_grad = out.requires_grad
            self._version_counter = [self._version + 1]
            return self
        with no_grad():
            out = result_fn()
        np.copyto(self._data, out._data, casting="unsafe")
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
        self._data[...] = value._data if isinstance(value, Tensor) else value
        self._bump_version()
        return self

    def copy_(self, src):
        src_data = src._data if isinstance(src, Tensor) else np.asarray(src)
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


class _Copy(Function):
    """``dst.copy_(src)``: the result has src's values (broadcast), dst gets no gradient."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        return np.array(np.broadcast_to(src, dst.shape), dtype=dst.dtype)

    @staticmethod
    def backward(ctx, grad):
        return None, grad
