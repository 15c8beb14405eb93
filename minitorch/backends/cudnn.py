"""``minitorch.backends.cudnn``: torch's cuDNN flags, settable and without effect on the CPU."""
__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic", "allow_tf32"]

# Module attributes a program may assign (torch.backends.cudnn.benchmark = True); the values are
# torch's defaults. minitorch reads none of them: it has no cuDNN and its kernels are
# deterministic.
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
