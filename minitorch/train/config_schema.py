"""Validate a raw (YAML-loaded) mapping against a tree of config dataclasses.

Field types come from the dataclass annotations (int, float, bool, str, Optional[...],
List[...], Union[...] and nested dataclasses); constraints and the documentation of each key come
from the field's metadata (see ``option``). Problems are collected, never raised one by one: the
user fixes every key in one go.
"""
import dataclasses
import difflib
import math
import numbers
import re
import typing

__all__ = ["option", "build_section", "describe_type", "suggest"]

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def option(default, doc, *, choices=None, ge=None, gt=None, le=None, lt=None, nonempty=False):
    """A dataclass field with a documented default and optional constraints."""
    meta = {"doc": doc, "choices": choices, "ge": ge, "gt": gt, "le": le, "lt": lt,
            "nonempty": nonempty}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=type(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def suggest(word, candidates):
    """The closest candidate to a misspelt ``word``, or None."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return close[0] if close else None


def describe_type(tp):
    """A short human description of an annotation: 'integer', 'list of number', ..."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        return " or ".join("null" if a is type(None) else describe_type(a) for a in args)
    if origin in (list, typing.List):
        return f"list of {describe_type(args[0])}"
    if origin in (dict, typing.Dict):
        return f"mapping of {describe_type(args[0])} to {describe_type(args[1])}"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


class _Bad(Exception):
    """A value that does not fit its annotation (internal: turned into a problem line)."""

    def lines(self):
        return [str(self)]


class _BadSection(_Bad):
    """Problems inside a mapping that is an element of a list (``train.unfreeze[0].epoch``)."""

    def __init__(self, problems):
        super().__init__(problems[0])
        self.problems = problems

    def lines(self):
        return list(self.problems)


def _coerce(value, tp, key):
    """``value`` checked against annotation ``tp`` (ints widen to floats); _Bad otherwise."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        for arg in args:
            if arg is type(None) and value is None:
                return None
        list_args = [a for a in args if typing.get_origin(a) in (list, typing.List)]
        if isinstance(value, list) and len(list_args) == 1:
            return _coerce(value, list_args[0], key)   # names the bad element, e.g. key[1]
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except _NonFinite:
                raise   # the right type, a wrong value: no other member of the union fits
            except _Bad:
                continue
        raise _Bad(f"{key}: expected {describe_type(tp)}, got {_show(value)}"
                   f"{_bool_hint(value, tp)}")
    if origin in (list, typing.List):
        if not isinstance(value, list):
            raise _Bad(f"{key}: expected {describe_type(tp)}, got {_show(value)}")
        return [_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            raise _Bad(f"{key}: expected {describe_type(tp)}, got {_show(value)}")
        return {_coerce(k, args[0], f"{key} (a key)"): _coerce(v, args[1], f"{key}.{k}")
                for k, v in value.items()}
    if dataclasses.is_dataclass(tp):   # an element of a list of sections
        problems = []
        section = build_section(tp, value, key, problems)
        if problems:
            raise _BadSection(problems)
        return section
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if tp is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _finite(float(value), key)
    if tp is float and isinstance(value, str) and _NUMBER.match(value.strip()):
        # PyYAML reads `1e-3` (no dot) as a string; take it as the number the user meant.
        return _finite(float(value), key)
    if tp is str and isinstance(value, str):
        return value
    raise _Bad(f"{key}: expected {describe_type(tp)}, got {_show(value)}{_bool_hint(value, tp)}")


class _NonFinite(_Bad):
    pass


def _finite(value, key):
    # YAML's .inf and .nan are floats: no bound below catches them, and no key means them.
    if not math.isfinite(value):
        raise _NonFinite(f"{key}: must be a finite number, got {value!r}")
    return value


def _accepts_str(tp):
    return tp is str or any(_accepts_str(a) for a in typing.get_args(tp)
                            if typing.get_origin(tp) is typing.Union)


def _bool_hint(value, tp):
    """YAML 1.1 reads unquoted yes/no/on/off (and true/false) as booleans: say so where a
    string was wanted, since the user typed a word, not a boolean."""
    if not isinstance(value, bool) or not _accepts_str(tp):
        return ""
    word = "on" if value else "off"
    return (f"; YAML reads unquoted yes/no/on/off as booleans: quote the word, "
            f"e.g. '{word}'")


def _show(value):
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "mapping", type(None): "null"}.get(type(value), type(value).__name__)
    text = repr(value) if not isinstance(value, (dict, list)) or len(repr(value)) < 40 \
        else repr(value)[:37] + "..."
    return f"{text} ({kind})" if value is not None else "null"


_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
_HOLDS = {"ge": lambda a, b: a >= b, "gt": lambda a, b: a > b,
          "le": lambda a, b: a <= b, "lt": lambda a, b: a < b}


def _check_range(value, meta, key):
    """Problem lines for choices and bounds (applied to each element of a list)."""
    items = value if isinstance(value, list) else [value]
    if meta.get("nonempty") and isinstance(value, list) and not value:
        return [f"{key}: must not be empty"]
    for item in items:
        if meta.get("choices") is not None and isinstance(item, str):
            if item not in meta["choices"]:
                hint = suggest(item, meta["choices"])
                hint = f" (did you mean {hint!r}?)" if hint else ""
                options = ", ".join(repr(c) for c in meta["choices"])
                return [f"{key}: must be one of {options}, got {item!r}{hint}"]
        if not isinstance(item, (int, float)) or isinstance(item, bool):
            continue
        for bound, word in _BOUNDS:
            limit = meta.get(bound)
            if limit is not None and not _HOLDS[bound](item, limit):
                return [f"{key}: must be {word} {limit}, got {item!r}"]
    return []


def build_section(cls, raw, prefix, problems):
    """An instance of dataclass ``cls`` from mapping ``raw``; problem lines go to ``problems``.

    A bad value leaves that key at its default so checking can go on with the rest.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(f"{prefix or '<top level>'}: expected a mapping of keys, got {_show(raw)}")
        raw = {}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            problems.append(_unknown(key, fields, prefix))
    values = {}
    for name, f in fields.items():
        if name not in raw:
            continue
        key = f"{prefix}.{name}" if prefix else name
        if dataclasses.is_dataclass(hints[name]):
            values[name] = build_section(hints[name], raw[name], key, problems)
            continue
        try:
            value = _coerce(raw[name], hints[name], key)
        except _Bad as bad:
            problems.extend(bad.lines())
            continue
        found = _check_range(value, f.metadata, key)
        problems.extend(found)
        if not found:
            values[name] = value
    return cls(**values)


def _unknown(key, fields, prefix):
    dotted = f"{prefix}.{key}" if prefix else str(key)
    close = suggest(key, fields)
    if close:
        where = f"{prefix}.{close}" if prefix else close
        return f"{dotted}: unknown key (did you mean {where!r}?)"
    return f"{dotted}: unknown key (valid keys{' in ' + prefix if prefix else ''}: " \
           f"{', '.join(fields)})"
