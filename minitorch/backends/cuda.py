"""``minitorch.backends.cuda``: CUDA is not built in (CPU only); the TF32 switch is settable."""
__all__ = ["is_built", "matmul"]


class _MatmulFlags:
    """``torch.backends.cuda.matmul.allow_tf32``: kept for programs that set it."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    return False
