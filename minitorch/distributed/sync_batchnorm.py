"""``SyncBatchNorm``: BatchNorm2d whose training statistics cover the global batch.

Plain BatchNorm under data parallelism normalises each rank's shard with that shard's own mean
and variance, so a 2-rank run is a different computation from a 1-process run on the same global
batch, and the ranks' running statistics drift apart. SyncBatchNorm (PyTorch's name) all-reduces
the per-channel sums instead: forward normalises with the global batch's mean and biased variance
and updates the running statistics with the global unbiased variance (identical on every rank),
and backward all-reduces the two per-channel gradient sums the input gradient needs. The result
equals single-process BatchNorm on the global batch to float32 rounding.

In eval mode (and for frozen BatchNorm layers, which the trainer keeps in eval mode) it is exactly
BatchNorm2d: nothing is communicated.
"""
import numpy as np

from ..autograd.function import Function
from ..nn.modules.batchnorm import BatchNorm2d
from . import env

__all__ = ["SyncBatchNorm", "convert_sync_batchnorm"]


def _sum_channels(a, comm):
    """Per-channel float64 sums of ``a`` (N, C, P) over every rank's batch."""
    s = a.sum(axis=(0, 2), dtype=np.float64)
    if comm is not None:
        from mpi4py import MPI
        comm.Allreduce(MPI.IN_PLACE, s, op=MPI.SUM)
    return s


class SyncBatchNormFunction(Function):
    """Batch normalisation with statistics over all ranks (the input as an (N, C, P) array)."""

    @staticmethod
    def forward(ctx, x, weight, bias, *, running_mean, running_var, momentum, eps, comm):
        # The sample count rides along with the channel sums: one message, not two.
        sums = np.append(x.sum(axis=(0, 2), dtype=np.float64), x.shape[0] * x.shape[2])
        if comm is not None:
            from mpi4py import MPI
            comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
        n = sums[-1]
        mean = sums[:-1] / n
        # Two passes (mean first, then squared deviations) like the single-process kernel: the
        # one-pass E[x^2] - E[x]^2 loses digits to cancellation.
        var = _sum_channels(np.square(x - mean[None, :, None]), comm) / n
        invstd = 1.0 / np.sqrt(var + eps)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += (momentum * mean).astype(running_mean.dtype)
            running_var *= 1 - momentum
            running_var += (momentum * var * n / max(n - 1, 1)).astype(running_var.dtype)
        dtype = x.dtype
        mean, invstd = mean.astype(dtype), invstd.astype(dtype)
        scale = invstd if weight is None else invstd * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        ctx.save_for_backward(x)
        ctx.mean, ctx.invstd, ctx.n, ctx.comm = mean, invstd, n, comm
        ctx.has_weight = weight is not None
        ctx.weight = weight
        return x * scale[None, :, None] + shift[None, :, None]

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        xhat = (x - ctx.mean[None, :, None]) * ctx.invstd[None, :, None]
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_w = (grad_out * xhat).sum(axis=(0, 2)) if need_w else None
        grad_b = grad_out.sum(axis=(0, 2)) if need_b else None
        grad_x = None
        if need_x:
            # Local gradient sums, all-reduced: the input of every rank moved the global mean
            # and variance, so every rank's output gradient reaches it.
            sums = np.stack([grad_out.sum(axis=(0, 2), dtype=np.float64),
                             (grad_out * xhat).sum(axis=(0, 2), dtype=np.float64)])
            if ctx.comm is not None:
                from mpi4py import MPI
                ctx.comm.Allreduce(MPI.IN_PLACE, sums, op=MPI.SUM)
            mean_g = (sums[0] / ctx.n).astype(x.dtype)[None, :, None]
            mean_gx = (sums[1] / ctx.n).astype(x.dtype)[None, :, None]
            scale = ctx.invstd if not ctx.has_weight else ctx.invstd * ctx.weight
            grad_x = scale[None, :, None] * (grad_out - mean_g - xhat * mean_gx)
        return grad_x, grad_w, grad_b


class SyncBatchNorm(BatchNorm2d):
    """BatchNorm2d that, in training, normalises with the statistics of every rank's batch."""

    def forward(self, input):
        comm = env.get_comm()
        if not (self.training and comm is not None):
            return super().forward(input)
        if input.ndim != 4 or input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected 4-D input (N, C, H, W) with "
                             f"{self.num_features} channels, got shape {tuple(input.shape)}")
        factor = self._update_factor()
        track = self.track_running_stats
        N, C, H, W = input.shape
        out = SyncBatchNormFunction.apply(
            input.reshape(N, C, H * W), self.weight, self.bias,
            running_mean=self.running_mean._data if track else None,
            running_var=self.running_var._data if track else None,
            momentum=factor, eps=self.eps, comm=comm)
        if track:
            self.running_mean._bump_version()
            self.running_var._bump_version()
        return out.reshape(N, C, H, W)


def convert_sync_batchnorm(module):
    """Turn every BatchNorm2d inside ``module`` into a SyncBatchNorm, in place, and return it.

    The objects are kept (only their class changes), so parameters, buffers, an optimizer built
    before, frozen flags and train/eval modes all stay valid. Like PyTorch's
    ``nn.SyncBatchNorm.convert_sync_batchnorm``, but in place."""
    for m in module.modules():
        if type(m) is BatchNorm2d:
            m.__class__ = SyncBatchNorm
    return module
