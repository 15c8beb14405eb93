"""``nn.BatchNorm1d``/``nn.BatchNorm2d`` with PyTorch's exact train/eval semantics and running statistics.

Training normalises with the batch's biased variance and updates ``running_var`` with the
unbiased one (inside ``F.batch_norm``); ``momentum=None`` makes the update a cumulative average
with factor ``1 / num_batches_tracked``. Eval normalises with the running statistics, unless
``track_running_stats=False``, in which case batch statistics are always used.
"""
import numpy as np

from minitorch.nn import functional as F
from minitorch.nn import init
from minitorch.nn.module import Module
from minitorch.nn.parameter import Parameter
from minitorch.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """Batch normalisation per channel (dim 1); subclasses fix the input rank."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None, *, bias: bool = True):
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{type(self).__name__}: invalid num_features {num_features!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{type(self).__name__}: invalid momentum {momentum!r}: "
                             f"must be in [0, 1]")
        if eps <= 0:
            raise ValueError(f"{type(self).__name__}: invalid eps {eps!r}: must be > 0")
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        np_dtype = np.dtype(getattr(dtype, "np", dtype) or np.float32)
        shape = (self.num_features,)
        if affine:
            self.weight = Parameter(np.empty(shape, dtype=np_dtype))
            if bias:
                self.bias = Parameter(np.empty(shape, dtype=np_dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._new(np.zeros(shape, dtype=np_dtype)))
            self.register_buffer("running_var", Tensor._new(np.ones(shape, dtype=np_dtype)))
            self.register_buffer("num_batches_tracked", Tensor._new(np.zeros((), dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _optional_state_keys(self) -> set:
        # Older PyTorch exports have no num_batches_tracked: keep the current count, like torch.
        return {"num_batches_tracked"}

    def _update_factor(self) -> float:
        """Count this batch and return the running-stats factor (cumulative when momentum=None)."""
        if not (self.training and self.track_running_stats):
            return 0.0 if self.momentum is None else self.momentum
        count = self.num_batches_tracked
        count._data[...] += 1  # a buffer outside autograd: record the in-place change ourselves
        count._bump_version()
        if self.momentum is None:
            return 1.0 / float(count._data)
        return self.momentum

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def forward(self, input):
        return self._forward(input)

    def _forward(self, input, relu=False):
        """``forward``; ``relu=True`` gives ``relu(forward(input))`` as one node (see
        ``minitorch.nn.fuse``)."""
        self._check_input_dim(input)
        factor = self._update_factor()
        # Batch statistics in training, and in eval when there are no running statistics.
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F._batch_norm(input, self.running_mean if track else None,
                             self.running_var if track else None, self.weight, self.bias,
                             use_batch_stats, factor, self.eps, relu)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel."""

    def _check_input_dim(self, input) -> None:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected 2-D (N, C) or 3-D (N, C, L) input with "
                             f"{self.num_features} channels, got shape {tuple(input.shape)}")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over the N, H, W axes of an NCHW input, per channel."""

    def _check_input_dim(self, input) -> None:
        if input.ndim != 4 or input.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected 4-D input (N, C, H, W) with "
                             f"{self.num_features} channels, got shape {tuple(input.shape)}")
