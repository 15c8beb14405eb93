"""PyTorch-style ``repr`` of a tensor: ``tensor([2., 3.], requires_grad=True)``."""
import numpy as np

__all__ = ["format_tensor"]


def _float_formatter(values: np.ndarray):
    """Choose PyTorch's float style for ``values``: integral ("2."), fixed ("0.1235") or sci."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda x: f"{x}"
    absf = np.abs(finite)
    nonzero = absf[absf > 0]
    if np.all(finite == np.round(finite)) and (absf.max() < 1e8):
        return lambda x: f"{x:.0f}." if np.isfinite(x) else f"{x}"
    if nonzero.size and (nonzero.max() >= 1e8 or nonzero.min() < 1e-4
                         or nonzero.max() / nonzero.min() > 1e3 and nonzero.max() > 1e5):
        return lambda x: f"{x:.4e}"
    return lambda x: f"{x:.4f}"


def format_tensor(data: np.ndarray, suffixes) -> str:
    prefix = "tensor("
    if data.dtype.kind == "f":
        fmt = _float_formatter(data.ravel())
        width = max((len(fmt(v)) for v in _sample(data)), default=0)
        formatter = {"float_kind": lambda x: fmt(x).rjust(width)}
    elif data.dtype.kind == "b":
        formatter = {"bool": lambda x: str(bool(x))}
    else:
        formatter = None
    if data.ndim == 0:
        body = formatter["float_kind"](data.item()).strip() if data.dtype.kind == "f" else (
            str(bool(data)) if data.dtype.kind == "b" else str(data.item()))
    else:
        body = np.array2string(data, separator=", ", prefix=prefix, formatter=formatter,
                               threshold=1000, edgeitems=3, max_line_width=80)
    extra = "".join(f", {s}" for s in suffixes)
    return f"{prefix}{body}{extra})"


def _sample(data: np.ndarray) -> np.ndarray:
    """The values that will be printed (summarised tensors show only their edges)."""
    flat = data.ravel()
    return flat if flat.size <= 1000 else np.concatenate([flat[:500], flat[-500:]])
