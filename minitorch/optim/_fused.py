"""``FusedOptimizer``: the step loop shared by the adaptive optimizers (Adam, RMSprop, ...).

Each subclass names its per-parameter buffers, how to start them, and turns a param group plus a
parameter's step count into the scalars of its numba kernel (``minitorch/kernels/``). This base
does the rest, the same way for all of them: parameters whose ``.grad`` is None are skipped (no
state, no decay, no step count), the lazily created state is PyTorch's (``step`` as a 0-d float32
tensor, buffers shaped like the parameter), and each parameter is updated by one fused kernel
call on flat C-contiguous arrays (the serial twin below ``SERIAL_BELOW`` elements).
"""
import math
import numbers

import numpy as np

from minitorch.tensor import Tensor

from .optimizer import Optimizer, _describe
from .sgd import SERIAL_BELOW

__all__ = ["FusedOptimizer", "check_hyper", "check_flag", "scalar_state"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_EMPTY = {dt: np.empty(0, dt) for dt in _FLOATS}


def check_hyper(label: str, value, low=0.0, high=None, high_open=False) -> None:
    """PyTorch's ``ValueError(f"Invalid {label}: {value}")`` unless ``low <= value`` (and
    ``value <= high``, or ``< high`` with ``high_open``); NaN, infinities and non-numbers fail too
    (PyTorch lets ``inf`` through; an infinite lr or eps only ever produces NaNs)."""
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(value) and value >= low)
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise ValueError(f"Invalid {label}: {value}")


def check_flag(name: str, value, supported=(False, None)) -> None:
    """Options accepted for PyTorch compatibility whose other values mean CUDA or graph capture
    (``fused``, ``capturable``, ``differentiable``): a clear error instead of a silent no-op."""
    if value not in supported:
        raise ValueError(f"{name}={value!r} is not supported by minitorch (CPU, one fused kernel "
                         f"per parameter already); leave it at {supported[0]!r}")


class FusedOptimizer(Optimizer):
    """Base of the optimizers whose update is one numba kernel per parameter.

    Subclasses set ``_KERNELS = (parallel, serial)`` and implement ``_buffers(group)`` (the state
    names the kernel reads, in its argument order, and the value each starts at),
    ``_kernel_args(group, step, cast)`` (the scalars after the arrays, as Python numbers, cast to
    the parameter's dtype here; ``cast`` is that dtype's type, for a value PyTorch forms in it)
    and ``_flags(group)`` (the trailing integer statics).
    """

    _KERNELS = None
    _STATE_BUFFERS = ()  # every buffer name the optimizer may hold (for load checks)

    # ----------------------------------------------------------------- subclass interface
    def _buffers(self, group: dict) -> list:
        raise NotImplementedError

    def _kernel_args(self, group: dict, step: float, cast) -> tuple:
        raise NotImplementedError

    def _flags(self, group: dict) -> tuple:
        raise NotImplementedError

    def _state_kernel_args(self, state: dict, group: dict, step: float, cast) -> tuple:
        """The kernel's scalars for an optimizer whose scalars also depend on per-parameter
        0-d state (NAdam's ``mu_product``, ASGD's ``eta``): advance that state here."""
        return self._kernel_args(group, step, cast)

    def _after_update_(self, state: dict, group: dict, step: float) -> None:
        """Per-parameter 0-d state PyTorch updates after the parameter (ASGD's ``eta``, ``mu``)."""

    def _init_state(self, p, group: dict) -> dict:
        """PyTorch's lazily created state: ``step`` 0 and each buffer filled with its start."""
        state = {"step": Tensor._new(np.array(0.0, dtype=np.float32))}
        for name, start in self._buffers(group):
            if name is not None:  # None: a buffer this group's options do not use
                state[name] = Tensor._new(np.full(p.shape, start, dtype=p._data.dtype))
        return state

    # ----------------------------------------------------------------- the loop
    def _step_group(self, group: dict) -> None:
        buffers = self._buffers(group)
        flags = self._flags(group)
        for i, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(self._init_state(p, group))
            self._update_param_(p, state, group, i, buffers, flags)

    def _update_param_(self, p, state: dict, group: dict, index: int, buffers, flags) -> None:
        data = p._data
        dtype = data.dtype
        if dtype not in _FLOATS:
            raise TypeError(f"{type(self).__name__} updates float32/float64 parameters; "
                            f"{_describe(group, index)} is {dtype}")
        grad = p.grad._data
        if grad.shape != data.shape:
            raise RuntimeError(f"{_describe(group, index)}: grad shape {tuple(grad.shape)} does "
                               f"not match the parameter shape {tuple(data.shape)}")
        step = _advance_step(state)
        # The kernel works on flat contiguous arrays; a non-contiguous parameter is updated
        # through a contiguous copy that is written back, so views of it still see the result.
        contiguous = data.flags.c_contiguous
        flat = data.reshape(-1) if contiguous else np.ascontiguousarray(data).reshape(-1)
        flat_grad = np.ascontiguousarray(grad, dtype=dtype).reshape(-1)
        arrays = []
        for name, start in buffers:
            if name is None:
                arrays.append(_EMPTY[dtype])
                continue
            buf = state.get(name)
            if buf is None:  # e.g. amsgrad switched on by a loaded group: start it now
                buf = Tensor._new(np.full(data.shape, start, dtype=dtype))
            buf = state[name] = _kernel_ready(buf, data, name, lambda: _describe(group, index))
            arrays.append(buf._data.reshape(-1))
        cast = dtype.type
        scalars = tuple(cast(v) for v in self._state_kernel_args(state, group, step, cast))
        parallel, serial = self._KERNELS
        update_ = serial if flat.size < SERIAL_BELOW else parallel
        update_(flat, *arrays, flat_grad, *scalars, *flags)
        if not contiguous:
            data[...] = flat.reshape(data.shape)
        self._after_update_(state, group, step)
        p._bump_version()
        for name, _ in buffers:
            if name is not None:
                state[name]._bump_version()

    def _check_param_state(self, param, entry: dict, where: str) -> list:
        problems = []
        for name in self._STATE_BUFFERS:
            buf = entry.get(name)
            if buf is not None and tuple(buf.shape) != tuple(param.shape):
                problems.append(f"{where}: {name} has shape {tuple(buf.shape)}, the parameter "
                                f"has {tuple(param.shape)}")
        step = entry.get("step")
        if step is not None and np.asarray(step._data if isinstance(step, Tensor) else
                                           step).size != 1:
            problems.append(f"{where}: step is not a single number")
        return problems


def _advance_step(state: dict) -> float:
    """``state["step"] += 1`` (a 0-d float32 tensor, as PyTorch keeps it); the new count as a
    Python float, which is what PyTorch's bias corrections use."""
    step = state.get("step")
    if not isinstance(step, Tensor):
        step = Tensor._new(np.array(0.0 if step is None else step, dtype=np.float32))
    elif step._data.dtype.kind != "f" or step._data.ndim != 0:
        step = Tensor._new(np.array(float(np.asarray(step._data).reshape(-1)[0]), dtype=np.float32))
    step._data[...] = step._data + 1
    step._bump_version()
    state["step"] = step
    return float(step._data)


def _kernel_ready(buf, data: np.ndarray, name: str, describe) -> Tensor:
    """A buffer the kernel can update in place: C-contiguous, writeable, with the parameter's
    dtype and shape (the kernel does no bounds checks)."""
    if not isinstance(buf, Tensor):
        buf = Tensor._new(np.asarray(buf))
    arr = buf._data
    if arr.shape != data.shape:
        raise RuntimeError(f"{describe()}: {name} shape {tuple(arr.shape)} does not match the "
                           f"parameter shape {tuple(data.shape)}")
    if arr.dtype != data.dtype or not arr.flags.c_contiguous or not arr.flags.writeable:
        return Tensor._new(np.array(arr, dtype=data.dtype, order="C"))
    return buf


def scalar_state(state: dict, name: str, start: float) -> Tensor:
    """The 0-d float32 state tensor ``name`` (PyTorch's dtype for scalar state), made from
    whatever a loaded state dict holds, or started at ``start``."""
    value = state.get(name)
    array = np.asarray(value._data if isinstance(value, Tensor) else
                       (start if value is None else value))
    if not isinstance(value, Tensor) or array.dtype != np.float32 or array.ndim != 0:
        value = state[name] = Tensor._new(np.array(float(array.reshape(-1)[0]), dtype=np.float32))
    return value
