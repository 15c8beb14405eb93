"""``nn.LayerNorm``: normalise over the trailing ``normalized_shape`` dims, PyTorch's arguments
(``elementwise_affine``, ``bias``), initialisation (weight 1, bias 0), state-dict keys and repr."""
import numbers

import numpy as np

from minitorch.nn import functional as F
from minitorch.nn import init
from minitorch.nn.module import Module
from minitorch.nn.parameter import Parameter

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) \
            else tuple(normalized_shape)
        if not shape or not all(isinstance(s, numbers.Integral) and s >= 0 for s in shape):
            raise ValueError(f"LayerNorm: invalid normalized_shape {normalized_shape!r}: "
                             f"expected an int or a tuple of ints >= 0")
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or np.float32)
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, np_dtype))
            if bias:
                self.bias = Parameter(np.empty(self.normalized_shape, np_dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
