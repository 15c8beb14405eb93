"""``minitorch.nn.utils``: gradient clipping, at PyTorch's path (``nn.utils.clip_grad_norm_``)."""
from . import clip_grad
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["clip_grad", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]
