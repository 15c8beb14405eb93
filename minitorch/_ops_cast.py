"""The dtype-cast methods (``x.float()``, ``x.int()``, ...), each declared once as a method only
(torch has no ``torch.float(x)`` function). They return the tensor itself when it already has
the dtype, as torch does; the cast is recorded (its gradient is cast back)."""
from . import dtypes
from ._registry import declare

__all__ = ["float", "double", "long", "int", "short", "char", "byte", "bool", "half"]


def _cast(name, dtype):
    def method(input):  # noqa: A002 - PyTorch's name
        return input.type(dtype)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``self.to({dtype!r})``."
    return declare(function=False, out=False)(method)


float = _cast("float", dtypes.float32)  # noqa: A001 - PyTorch's names
double = _cast("double", dtypes.float64)
long = _cast("long", dtypes.int64)
int = _cast("int", dtypes.int32)  # noqa: A001
short = _cast("short", dtypes.int16)
char = _cast("char", dtypes.int8)
byte = _cast("byte", dtypes.uint8)
bool = _cast("bool", dtypes.bool)  # noqa: A001


@declare(function=False, out=False)
def half(input):  # noqa: A002
    """float16 is not a minitorch dtype (the kernels are float32/float64)."""
    raise TypeError("half(): minitorch has no float16 dtype; use float() (float32)")
