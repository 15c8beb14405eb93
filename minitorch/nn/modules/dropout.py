"""``nn.Dropout``: zero elements with probability p in training, scaling the rest by 1/(1-p)."""
from minitorch.nn import functional as F
from minitorch.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Identity in eval mode; masks come from minitorch's global generator."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        extra = {"inplace": True} if self.inplace else {}
        return F.dropout(input, self.p, self.training, **extra)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
