"""``SGD``: stochastic gradient descent with momentum, dampening, nesterov and weight decay.

The numbers follow ``torch.optim.SGD`` step for step: weight decay is added to the gradient,
the momentum buffer starts as a copy of the first (decayed) gradient and then becomes
``momentum * buf + (1 - dampening) * grad``, nesterov steps along ``grad + momentum * buf``.
A parameter whose ``.grad`` is None is skipped entirely (no decay, no state), which is what
keeps frozen parameters bitwise unchanged. Each parameter's update is one fused numba pass
(``minitorch.kernels.sgd.sgd_update_``, or its serial twin for small parameters).
"""
import numbers

import numpy as np

from minitorch.kernels.sgd import sgd_update_, sgd_update_serial_
from minitorch.tensor import Tensor

from .optimizer import Optimizer, _describe

__all__ = ["SGD"]

# Below this many elements the serial kernel is used: waking the thread pool costs ~15 us, more
# than updating a BatchNorm's 64..512 weights or a bias takes (measured on 2 cores: serial wins
# up to ~8k elements, parallel from ~16k; ResNet-18 has 41 of its 62 parameters below).
SERIAL_BELOW = 8192

# Stand-in for the momentum buffer when momentum is 0 (the kernel never reads it then).
_NO_BUFFER = {np.dtype(np.float32): np.empty(0, np.float32),
              np.dtype(np.float64): np.empty(0, np.float64)}


def _check_number(name: str, value) -> None:
    """ValueError naming ``value`` unless it is a real number >= 0 (NaN fails too)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"invalid {name} {value!r}: must be a number >= 0")


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), like ``torch.optim.SGD``.

    Args: ``params`` (iterable of Tensors, ``(name, Tensor)`` pairs or param-group dicts),
    ``lr`` (default 1e-3), ``momentum`` (0), ``dampening`` (0), ``weight_decay`` (0, L2 penalty
    added to the gradient), ``nesterov`` (False), keyword-only ``maximize`` (False: minimise).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict) -> None:
        for name in ("lr", "momentum", "weight_decay"):
            _check_number(name, group[name])
        dampening = group["dampening"]
        if isinstance(dampening, bool) or not isinstance(dampening, numbers.Real):
            raise ValueError(f"invalid dampening {dampening!r}: must be a number")
        if group["nesterov"] and (group["momentum"] <= 0 or dampening != 0):
            raise ValueError(f"nesterov momentum requires a momentum > 0 and zero dampening, "
                             f"got momentum={group['momentum']!r}, dampening={dampening!r}")

    def _check_param_state(self, param, entry: dict, where: str) -> list:
        buf = entry.get("momentum_buffer")
        if buf is not None and tuple(buf.shape) != tuple(param.shape):
            return [f"{where}: momentum_buffer has shape {tuple(buf.shape)}, the parameter has "
                    f"{tuple(param.shape)}"]
        return []

    def _step_group(self, group: dict) -> None:
        use_momentum = group["momentum"] != 0
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                continue  # skipped entirely: no weight decay, no state entry
            state = self.state[p] if use_momentum else None
            buf = state.get("momentum_buffer") if use_momentum else None
            buf = _update_param_(p, buf, group, i, use_momentum)
            if use_momentum:
                state["momentum_buffer"] = buf


def _update_param_(p, buf, group: dict, index: int, use_momentum: bool):
    """Run the fused kernel on one parameter; return its momentum buffer (None without momentum).

    The returned buffer is ``buf`` itself, or a new Tensor on the first step or when ``buf`` had
    to be converted to a layout the kernel can update in place. ``index`` (the parameter's place
    in ``group``) only names it in error messages.
    """
    def describe():
        return _describe(group, index)

    data = p._data
    dtype = data.dtype
    if dtype not in _NO_BUFFER:
        raise TypeError(f"SGD updates float32/float64 parameters; {describe()} is {dtype}")
    grad = p.grad._data
    if grad.shape != data.shape:
        raise RuntimeError(f"{describe()}: grad shape {tuple(grad.shape)} does not match the "
                           f"parameter shape {tuple(data.shape)}")
    # The kernel works on flat contiguous arrays; a non-contiguous parameter is updated through
    # a contiguous copy that is written back, so views of it still see the new values.
    contiguous = data.flags.c_contiguous
    flat = data.reshape(-1) if contiguous else np.ascontiguousarray(data).reshape(-1)
    flat_grad = np.ascontiguousarray(grad, dtype=dtype).reshape(-1)
    first_step = buf is None
    if not use_momentum:
        flat_buf = _NO_BUFFER[dtype]
    else:
        buf = _kernel_ready_buffer(buf, data, describe)
        flat_buf = buf._data.reshape(-1)
    cast = dtype.type
    update_ = sgd_update_serial_ if flat.size < SERIAL_BELOW else sgd_update_
    update_(flat, flat_buf, flat_grad, cast(group["lr"]), cast(group["momentum"]),
            cast(1 - group["dampening"]), cast(group["weight_decay"]),
            int(bool(group["nesterov"])), int(bool(group["maximize"])),
            int(use_momentum), int(first_step))
    if not contiguous:
        data[...] = flat.reshape(data.shape)
    p._bump_version()
    if buf is not None:
        buf._bump_version()
    return buf


def _kernel_ready_buffer(buf, data: np.ndarray, describe) -> Tensor:
    """A momentum buffer the kernel can update in place: C-contiguous, writeable, with the
    parameter's dtype and shape (the kernel does no bounds checks). None gives a fresh one."""
    if buf is None:
        return Tensor._new(np.empty_like(data, order="C"))
    arr = buf._data
    if arr.shape != data.shape:
        raise RuntimeError(f"{describe()}: momentum_buffer shape {tuple(arr.shape)} does not "
                           f"match the parameter shape {tuple(data.shape)}")
    if arr.dtype != data.dtype or not arr.flags.c_contiguous or not arr.flags.writeable:
        return Tensor._new(np.array(arr, dtype=data.dtype, order="C"))
    return buf
