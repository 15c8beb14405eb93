"""The schema of a weights file's root attributes (DESIGN section 3), checked on reading.

Every attribute is optional except ``format``; each one present must have its type and range, so
that a careless or hostile file is refused with one line naming the attribute instead of failing
later (a string ``num_classes`` in a comparison, a zero ``std`` dividing every pixel, a
``class_names`` list that does not match the head).

=================  ==========================================================
``format``         one of minitorch's format names (checked by the loader)
``format_version`` an integer >= 1
``arch``           a non-empty string
``num_classes``    an integer >= 1; equals the rows of ``fc.weight`` if both exist
``class_names``    a list of distinct strings or integers; ``num_classes`` long
``mean``, ``std``  lists of finite numbers (std > 0), 1 to 64 values, equally long
``source``         a string
=================  ==========================================================
"""
import math
import numbers

from .errors import WeightsAttributeError

__all__ = ["check_weights_attrs"]

_MAX_CHANNELS = 64


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _as_list(v):
    return v if isinstance(v, list) else [v]   # h5py gives a 1-element list back as a scalar


def _stats_problem(name, value):
    values = _as_list(value)
    if not 1 <= len(values) <= _MAX_CHANNELS or not all(_is_number(v) for v in values):
        return f"must be a list of 1 to {_MAX_CHANNELS} numbers"
    if not all(math.isfinite(v) for v in values):
        return "must hold finite numbers"
    if name == "std" and not all(v > 0 for v in values):
        return "must hold numbers > 0"
    return None


def _class_names_problem(value):
    values = _as_list(value)
    if not values or not all(isinstance(v, str) or _is_int(v) for v in values):
        return "must be a non-empty list of strings or integers"
    if len({str(v) for v in values}) != len(values):
        return "lists a class twice"
    return None


_FIELDS = {
    "format_version": lambda v: None if _is_int(v) and v >= 1 else "must be an integer >= 1",
    "arch": lambda v: None if isinstance(v, str) and v else "must be a non-empty string",
    "num_classes": lambda v: None if _is_int(v) and v >= 1 else "must be an integer >= 1",
    "class_names": _class_names_problem,
    "mean": lambda v: _stats_problem("mean", v),
    "std": lambda v: _stats_problem("std", v),
    "source": lambda v: None if isinstance(v, str) else "must be a string",
}


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_weights_attrs(attrs, path, state_dict=None):
    """Raise ``WeightsAttributeError`` naming the first bad attribute of ``attrs`` (plain
    values, as ``load_attrs`` returns them); with ``state_dict``, ``num_classes`` and
    ``class_names`` are checked against the rows of its ``fc.weight`` too."""
    def fail(name, problem):
        raise WeightsAttributeError(f"'{path}': attribute '{name}' {problem}, got "
                                    f"{_shown(attrs[name])}")

    for name, check in _FIELDS.items():
        if name in attrs:
            problem = check(attrs[name])
            if problem:
                fail(name, problem)
    if "mean" in attrs and "std" in attrs and \
            len(_as_list(attrs["mean"])) != len(_as_list(attrs["std"])):
        fail("std", f"must have as many values as 'mean' ({len(_as_list(attrs['mean']))})")
    names = _as_list(attrs["class_names"]) if "class_names" in attrs else None
    if names is not None and "num_classes" in attrs and len(names) != attrs["num_classes"]:
        fail("class_names", f"must list num_classes ({attrs['num_classes']}) classes")
    head = (state_dict or {}).get("fc.weight")
    if head is not None and len(head.shape) == 2:
        rows = int(head.shape[0])
        if "num_classes" in attrs and attrs["num_classes"] != rows:
            fail("num_classes", f"must equal the {rows} rows of fc.weight")
        if names is not None and len(names) != rows:
            fail("class_names", f"must list one class per row of fc.weight ({rows})")
