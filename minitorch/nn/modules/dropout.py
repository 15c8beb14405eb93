"""``nn.Dropout``/``nn.Dropout2d``: zero elements (or whole channels) with probability p in
training, scaling the rest by 1/(1-p)."""
from minitorch._nn_checks import check_probability
from minitorch.nn import functional as F
from minitorch.nn.module import Module

__all__ = ["Dropout", "Dropout2d"]


class Dropout(Module):
    """Identity in eval mode; masks come from minitorch's global generator."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        check_probability(p)
        self.p, self.inplace = p, inplace

    def forward(self, input):
        extra = {"inplace": True} if self.inplace else {}
        return F.dropout(input, self.p, self.training, **extra)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) input (each plane with probability p)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)
