"""What a configured ResNet-18 needs in memory, estimated from the config before anything exists.

A ``model.width: 100000`` or ``data.image_size: 10000`` would otherwise end in numpy's allocation
traceback (or the kernel's OOM killer) deep in model construction; the config check compares this
estimate with the machine's memory first and names the keys.

The figures are lower bounds on purpose (only a run that certainly cannot fit is refused):

* parameters: ResNet-18's convolutions hold ``2724 w^2`` weights at base width ``w`` (36 in
  layer1, 128 in layer2, 512 in layer3, 2048 in layer4, in units of ``w^2``), plus the stem
  (``in_channels * w * k^2``) and the head (``8 w`` by classes); training keeps the weights,
  their gradients and the momentum buffers: 3 float32 copies.
* activations: what one training image keeps for backward, at least ``12 S^2 w`` bytes at image
  side ``S`` with the imagenet stem (which divides the side by 4 before layer1; PyTorch itself
  peaks at about twice that) and 8 times that with the small stem (no reduction).
"""
import os
import resource

__all__ = ["training_bytes", "memory_limit_bytes", "format_bytes"]


def _parameters(width, in_channels, variant, num_classes):
    kernel = 7 if variant == "imagenet" else 3
    return 2724 * width * width + in_channels * width * kernel * kernel \
        + (8 * width + 1) * num_classes


def training_bytes(width, in_channels, variant, num_classes, image_size, batch_size):
    """(parameter bytes, activation bytes) at least needed for one training step."""
    params = 3 * 4 * _parameters(width, in_channels, variant, num_classes or 1)
    per_image = 12 * image_size * image_size * width * (1 if variant == "imagenet" else 8)
    return params, per_image * batch_size


def memory_limit_bytes():
    """The machine's physical memory, or this process's address-space limit if lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    limits = [v for v in (total, soft) if v not in (None, -1, resource.RLIM_INFINITY) and v > 0]
    return min(limits) if limits else None


def format_bytes(n):
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.1f} kB"
