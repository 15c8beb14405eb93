"""``nn.Parameter``: a Tensor that a Module registers as learnable when assigned as an attribute."""
import numpy as np

from minitorch.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is registered by ``Module.__setattr__``.

    ``Parameter(t)`` shares ``t``'s storage, like ``torch.nn.Parameter``; ``Parameter()`` is an
    empty float32 tensor. Results of operations on a Parameter are plain Tensors.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            array = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            array = np.asarray(data)
        self._init_array(array, requires_grad)   # (its dtype: not the legacy constructor)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
