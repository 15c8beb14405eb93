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
        shown = _sample(data)
        # torch pads to the widest finite non-zero value: an inf or nan may stick out
        shown = shown[np.isfinite(shown) & (shown != 0)]
        width = max((len(fmt(v)) for v in shown), default=1)
        formatter = {"float_kind": lambda x: fmt(x).rjust(width)}
    elif data.dtype.kind == "b":
        width = 5 if not data.all() else 4   # torch right-aligns True under False
        formatter = {"bool": lambda x: str(bool(x)).rjust(width)}
    else:
        formatter = None
    if data.ndim == 0:
        body = formatter["float_kind"](data.item()).strip() if data.dtype.kind == "f" else (
            str(bool(data)) if data.dtype.kind == "b" else str(data.item()))
    else:
        body = np.array2string(data, separator=", ", prefix=prefix, formatter=formatter,
                               threshold=1000, edgeitems=3, max_line_width=80)
    return _add_suffixes(prefix + body, suffixes, len(prefix))


def _add_suffixes(text, suffixes, indent, linewidth=80):
    """Append ``, dtype=...`` and the like as torch does: on a new line when the last line
    would grow past the line width (torch counts that line two characters long)."""
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > linewidth:
            text += ",\n" + " " * indent + suffix
            last = indent + len(suffix)
        else:
            text += ", " + suffix
            last += len(suffix) + 2
    return text + ")"


def _sample(data: np.ndarray) -> np.ndarray:
    """The values that will be printed (summarised tensors show only their edges)."""
    flat = data.ravel()
    return flat if flat.size <= 1000 else np.concatenate([flat[:500], flat[-500:]])
