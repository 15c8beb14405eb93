"""Argument checks shared by ``nn.functional`` and the ``nn`` modules (one place for each rule,
so a module and its functional form refuse the same values with the same message)."""
import numbers

__all__ = ["legacy_reduction", "check_reduction", "check_probability", "check_non_negative",
           "check_positive"]

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, where="loss"):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{where}: invalid reduction {reduction!r}: expected one of "
                         f"{', '.join(_REDUCTIONS)}")
    return reduction


def legacy_reduction(size_average, reduce, reduction, where="loss"):
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` onto ``reduction``."""
    if size_average is None and reduce is None:
        return check_reduction(reduction, where)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


def check_probability(p, what="dropout"):
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{what} probability has to be between 0 and 1, but got {p}")
    return float(p)


def check_non_negative(value, name, op):
    if not isinstance(value, numbers.Real) or value < 0:
        raise RuntimeError(f"{op} does not support negative values for {name}, got {value!r}")
    return float(value)


def check_positive(value, name, op):
    if not isinstance(value, numbers.Real) or value <= 0:
        raise RuntimeError(f"{op} does not support non-positive values for {name}, got "
                           f"{value!r}")
    return float(value)
