"""``minitorch.finfo`` / ``minitorch.iinfo``: the limits of a dtype, with torch's attribute names."""
import numpy as np

from .dtypes import dtype as _dtype, get_default_dtype

__all__ = ["finfo", "iinfo"]


def _g(x):
    return f"{x:g}"


class finfo:
    """Machine limits of a floating-point dtype (the default dtype when none is given)."""

    def __init__(self, type=None):  # noqa: A002 - torch's parameter name
        d = get_default_dtype() if type is None else type
        if not isinstance(d, _dtype) or not d.is_floating_point:
            raise TypeError("minitorch.finfo() requires a floating point input type. Use "
                            "minitorch.iinfo to handle 'minitorch.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)   # torch: a power of ten, exactly
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, "
                f"max={_g(self.max)}, eps={_g(self.eps)}, smallest_normal="
                f"{_g(self.smallest_normal)}, tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype."""

    def __init__(self, type):  # noqa: A002 - torch's parameter name
        if not isinstance(type, _dtype) or type.np.kind not in "iu":
            raise TypeError("minitorch.iinfo() requires an integer input type. Use "
                            "minitorch.finfo to handle 'minitorch.iinfo'")
        info = np.iinfo(type.np)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"
