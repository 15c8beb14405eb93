"""``x.new_zeros(...)``, ``new_ones``, ``new_empty``, ``new_full``, ``new_tensor``: methods only
(torch has no ``torch.new_zeros``). The result has ``x``'s dtype and device unless ``dtype=``
says otherwise, never ``x``'s requires_grad (the ``requires_grad=`` argument sets it), and
shares nothing with ``x``, as torch's do."""
import numpy as np

from ._registry import declare

__all__ = ["new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"]


def _factory(name, fill):
    def method(input, *size, dtype=None, device=None, requires_grad=False, layout=None,  # noqa: A002
               pin_memory=False):
        from . import creation   # creation imports tensor, which loads these topic modules
        return getattr(creation, fill)(*size, dtype=dtype or input.dtype, device=device,
                                       requires_grad=requires_grad)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{fill}(*size)`` with this tensor's dtype (or ``dtype=``)."
    return declare(function=False, out=False)(method)


new_zeros = _factory("new_zeros", "zeros")
new_ones = _factory("new_ones", "ones")
new_empty = _factory("new_empty", "empty")


@declare(function=False, out=False)
def new_full(input, size, fill_value, *, dtype=None, device=None, requires_grad=False,  # noqa: A002
             layout=None, pin_memory=False):
    """``full(size, fill_value)`` with this tensor's dtype (or ``dtype=``)."""
    from .creation import full
    return full(size, fill_value, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


@declare(function=False, out=False)
def new_tensor(input, data, *, dtype=None, device=None, requires_grad=False,  # noqa: A002
               layout=None, pin_memory=False):
    """A copy of ``data`` (detached, when a tensor) with this tensor's dtype (or ``dtype=``)."""
    from .creation import tensor
    from .tensor import TensorBase
    if isinstance(data, TensorBase):
        data = data._data
    return tensor(np.array(data, copy=True), dtype=dtype or input.dtype, device=device,
                  requires_grad=requires_grad)
