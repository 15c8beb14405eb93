"""``minitorch.device``: PyTorch's device objects, for a framework that runs on the CPU only.

Programs written for PyTorch name devices everywhere (``torch.device("cuda" if ... else "cpu")``,
``x.to(device)``, ``torch.zeros(3, device=device)``). minitorch accepts all of that for the CPU
and answers any other device with one ``DeviceError`` that says how to write portable code.
A ``device("cuda")`` object itself may be built (PyTorch allows it without CUDA too); only
*using* it fails. This module imports nothing from minitorch, so every layer may use it.
"""
__all__ = ["device", "DeviceError", "CPU", "check_device", "is_device_like", "parse_to_args",
           "get_default_device", "set_default_device", "PORTABLE_HINT"]

# The device types PyTorch knows; a device string naming any other is an error, as in torch.
_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")

PORTABLE_HINT = ('write portable code with device = "cuda" if torch.cuda.is_available() else '
                 '"cpu" (torch.cuda.is_available() is False in minitorch)')


class DeviceError(RuntimeError):
    """A device other than the CPU was asked for (or a device string is malformed)."""


def _parse(text):
    kind, sep, index = text.partition(":")
    if kind not in _KNOWN_TYPES:
        raise DeviceError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of "
                          f"device string: {text}")
    if not sep:
        return kind, None
    if not index.isdigit() or (len(index) > 1 and index[0] == "0"):
        raise DeviceError(f"Invalid device string: {text!r}")
    return kind, int(index)


class device:
    """``device("cpu")``, ``device("cpu", 0)``, ``device("cpu:0")`` or ``device(other_device)``.

    Equal when type and index are equal (so ``device("cpu") != device("cpu:0")``, as in torch);
    hashable; ``str`` is ``"cpu"`` or ``"cpu:0"``; ``repr`` is ``device(type='cpu')``.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            if index is not None:
                raise DeviceError("device(device, index): the index is already in the device")
            kind, idx = type._type, type._index
        elif isinstance(type, int) and not isinstance(type, bool):
            # torch.device(0) means the first accelerator (cuda:0).
            kind, idx = "cuda", type
        elif isinstance(type, str):
            kind, idx = _parse(type)
            if index is not None:
                if idx is not None:
                    raise DeviceError(f"type (string) must not include an index because index "
                                      f"was passed explicitly: {type}")
                idx = index
        else:
            raise TypeError(f"device() expects a string, a device or an int, got "
                            f"{type.__class__.__name__}")
        if idx is not None:
            if isinstance(idx, bool) or not isinstance(idx, int):
                raise TypeError(f"device index must be an int, got {idx.__class__.__name__}")
            if idx < 0:
                raise DeviceError("Device index must not be negative")
        self._type, self._index = kind, idx

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self):
        return self._index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __reduce__(self):
        return (device, (self._type, self._index))

    # ``with torch.device("cpu"):`` sets the default device in torch; on the CPU it changes
    # nothing, and another device is refused up front.
    def __enter__(self):
        check_device(self)
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def is_device_like(value) -> bool:
    """True for a ``device``, a device string (``"cpu"``, ``"cuda:0"``) or an int index."""
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in _KNOWN_TYPES
    return isinstance(value, int) and not isinstance(value, bool)


def check_device(value):
    """``CPU`` for None or any spelling of the CPU; ``DeviceError`` for any other device."""
    if value is None or value is CPU:
        return CPU
    dev = value if isinstance(value, device) else device(value)
    if dev.type != "cpu":
        raise DeviceError(f"minitorch runs on the CPU only: device {str(dev)!r} is not "
                          f"available; {PORTABLE_HINT}")
    return CPU  # any CPU index is the one CPU, as in torch (tensor.device prints 'cpu')


_TO_KEYWORDS = ("device", "dtype", "non_blocking", "copy", "memory_format")


def parse_to_args(args, kwargs, tensor_type):
    """``(device, dtype, copy)`` from the arguments of ``Tensor.to`` / ``Module.to``.

    The three forms of PyTorch: ``to(dtype, non_blocking, copy)``, ``to(device, dtype,
    non_blocking, copy)`` and ``to(other_tensor, non_blocking, copy)``, with any of them as
    keywords. The device is checked (``DeviceError`` unless the CPU); the dtype is returned as
    given (None when not asked for). ``non_blocking`` and ``memory_format`` change nothing on the
    CPU and are accepted.
    """
    unknown = sorted(set(kwargs) - set(_TO_KEYWORDS))
    if unknown:
        raise TypeError(f"to() got an unexpected keyword argument {unknown[0]!r}")
    if len(args) > 4:
        raise TypeError(f"to() takes at most 4 positional arguments ({len(args)} given)")
    dev, dtype, copy = kwargs.get("device"), kwargs.get("dtype"), kwargs.get("copy", False)
    rest = list(args)
    if rest and isinstance(rest[0], tensor_type):
        other = rest.pop(0)
        dev, dtype = other.device, other.dtype
    elif rest and is_device_like(rest[0]):
        dev = rest.pop(0)
        if rest and not isinstance(rest[0], bool):
            dtype = rest.pop(0)
    elif rest and rest[0] is not None:
        dtype = rest.pop(0)
    elif rest:
        rest.pop(0)
    if len(rest) > 2:
        raise TypeError("to() received an invalid combination of arguments")
    if len(rest) == 2:
        copy = rest[1]
    check_device(dev)
    return CPU, dtype, bool(copy)


def get_default_device():
    """The device new tensors are made on: always the CPU."""
    return CPU


def set_default_device(device):
    """Accepts the CPU (a no-op) or None; any other device raises ``DeviceError``."""
    check_device(device)
