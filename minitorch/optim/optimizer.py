"""``Optimizer``: the base of every optimizer, with PyTorch's param groups and state dicts.

An optimizer holds ``param_groups`` (a list of dicts: ``"params"`` plus that group's
hyperparameters, missing ones filled from ``defaults``) and ``state`` (per-parameter dicts such as
SGD's ``momentum_buffer``). ``state_dict()`` replaces parameters by their index over all groups in
order, exactly like ``torch.optim.Optimizer.state_dict``, so a checkpoint stores no tensors twice
and can be re-keyed by parameter name by the checkpoint code.
"""
import copy
import numbers
from collections.abc import MutableMapping

import numpy as np

from minitorch.autograd.grad_mode import enable_grad, no_grad
from minitorch.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The default of a hyperparameter that every param group must set (PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_SET_MESSAGE = ("optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; use a list instead")


class _ParamState(MutableMapping):
    """``optimizer.state``: per-parameter dicts keyed by the parameter object itself.

    Keyed by identity rather than by hash, so it works whatever ``Tensor.__eq__``/``__hash__``
    do. Reading a missing parameter creates an empty dict, like PyTorch's ``defaultdict(dict)``;
    ``get`` and ``in`` do not.
    """

    def __init__(self):
        self._entries = {}  # id(param) -> (param, state dict); holding param keeps the id valid

    def __getitem__(self, param):
        entry = self._entries.get(id(param))
        if entry is None:
            entry = self._entries[id(param)] = (param, {})
        return entry[1]

    def __setitem__(self, param, value):
        self._entries[id(param)] = (param, value)

    def __delitem__(self, param):
        del self._entries[id(param)]

    def __contains__(self, param):
        return id(param) in self._entries

    def get(self, param, default=None):
        entry = self._entries.get(id(param))
        return default if entry is None else entry[1]

    def __iter__(self):
        return (param for param, _ in self._entries.values())

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        return "{" + ", ".join(f"<param {tuple(p.shape)}>: {s!r}" for p, s in
                               self._entries.values()) + "}"


def _describe(group: dict, i: int) -> str:
    """Name parameter ``i`` of a group for an error message: its name when known, else its shape."""
    names = group.get("param_names")
    if names is not None:
        return f"parameter {names[i]!r}"
    return f"parameter {i} (shape {tuple(group['params'][i].shape)})"


class Optimizer:
    """Base class: subclasses pass their hyperparameter ``defaults`` and implement ``step``.

    ``params`` is an iterable (a list, a generator such as ``model.parameters()``) of Tensors, of
    ``(name, Tensor)`` pairs (as from ``named_parameters()``), or of param-group dicts.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)  # stricter than PyTorch: a set's order varies by run
        self.defaults = defaults
        self.state = _ParamState()
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ----------------------------------------------------------------- param groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group (a dict with ``"params"`` and optional hyperparameters) to ``param_groups``.

        Missing hyperparameters come from ``defaults``. A parameter that is already in this or
        another group is a ValueError naming it.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group has no 'params' key")
        self._unpack_params(param_group)
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        self._validate_group(param_group)
        self._check_unique(param_group)
        self.param_groups.append(param_group)

    def _unpack_params(self, group: dict) -> None:
        """Normalise ``group["params"]`` to a list of Tensors, moving names to ``param_names``."""
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        params = list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named) and not all(named):
            raise ValueError("all optimizer params should be with/without names; "
                             "some param names are missing")
        if params and all(named):
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the "
                                f"group is a {type(p).__name__}")
            if not getattr(p, "is_leaf", True):
                raise ValueError(f"can't optimize a non-leaf Tensor: parameter {i} of the group "
                                 f"(shape {tuple(p.shape)})")
        group["params"] = params
        if self.param_groups and (("param_names" in group)
                                  != ("param_names" in self.param_groups[0])):
            raise ValueError("all optimizer param groups should be with/without names")

    def _check_unique(self, group: dict) -> None:
        """A parameter may appear once over all groups: twice would step it twice per step."""
        seen = {}
        for g_index, other in enumerate(self.param_groups):
            for p in other["params"]:
                seen[id(p)] = f"param group {g_index}"
        for i, p in enumerate(group["params"]):
            where = seen.get(id(p))
            if where is not None:
                raise ValueError(f"{_describe(group, i)} appears more than once: already in "
                                 f"{where}")
            seen[id(p)] = "this param group"

    def _validate_group(self, group: dict) -> None:
        """Check a group's hyperparameters; subclasses raise ValueError naming the bad value."""

    # ----------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: to None (default) or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None or grad.requires_grad:
                    grad = p.grad = grad.detach()  # a grad made with create_graph leaves its graph
                with no_grad():
                    grad.zero_()

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (re-evaluates the loss) runs with grad.
        A subclass implements ``_step_group(group)``, the update of one param group."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- state dicts
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Indices count parameters over all groups in order. Like PyTorch, the state tensors are
        the optimizer's own (not copies): save or copy the dict before stepping again.
        """
        index_of = {}
        packed_groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            packed_groups.append(packed)
        # Sorted by index so two identical runs give identical checkpoints.
        packed_state = sorted((index_of[id(p)], s) for p, s in self.state.items()
                              if id(p) in index_of)
        return {"state": dict(packed_state), "param_groups": packed_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()``: groups must match in number and size; state is copied."""
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"optimizer state dict has no {key!r} entry")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        self._check_group_sizes(saved_groups)
        id_map = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for index, p in zip(saved["params"], group["params"]):
                id_map[_as_index(index)] = p
        new_state = _ParamState()
        problems = []
        for key, value in state_dict["state"].items():
            index = _as_index(key)
            if index not in id_map:
                problems.append(f"state entry {key!r} matches no parameter of the param groups")
                continue
            param = id_map[index]
            # Like PyTorch, ``step`` keeps its own dtype; other float state takes the param's.
            entry = {k: _copy_value(v, None if k == "step" else param) for k, v in value.items()}
            problems.extend(self._check_param_state(param, entry, f"state entry {key!r}"))
            new_state[param] = entry
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        if problems:
            raise ValueError("error loading optimizer state dict: " + "; ".join(problems))
        for group in new_groups:
            self._check_loaded_group(group)
        self.state = new_state
        self.param_groups = new_groups

    def _check_loaded_group(self, group: dict) -> None:
        """PyTorch loads a group's hyperparameters as they are, out of range too: a schedule may
        have taken them there (OneCycleLR drives lr below 0 or beta1 above 1 in some settings).
        Only a value of the wrong kind is refused, so that it cannot fail inside a kernel."""
        for name, default in self.defaults.items():
            value = group.get(name)
            if isinstance(default, numbers.Real) and not isinstance(default, bool) and (
                    isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise ValueError(f"loaded optimizer param group: {name} must be a number, got "
                                 f"{value!r}")

    def _check_group_sizes(self, saved_groups: list) -> None:
        for i, saved in enumerate(saved_groups):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"parameter group {i} of the loaded state dict is not a dict "
                                 f"with a 'params' list")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"parameter group {i} of the loaded state dict has "
                                 f"{len(saved['params'])} parameters, the optimizer's has "
                                 f"{len(group['params'])}")

    def _check_param_state(self, param, entry: dict, where: str) -> list:
        """Problems with one parameter's loaded state (list of messages); subclasses extend."""
        return []

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)


def _as_index(key) -> int:
    """A state-dict parameter index: ints, numpy ints and digit strings (some formats stringify
    dict keys) all name the same parameter."""
    if isinstance(key, str) and key.isdigit():
        return int(key)
    if isinstance(key, (int, np.integer)):
        return int(key)
    return key


def _copy_value(value, param):
    """Deep-copy a loaded state value; floating arrays take the parameter's dtype, like PyTorch.

    The copy means the loaded dict and the optimizer never share buffers: stepping one run does
    not move the other.
    """
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and param is not None:
            return Tensor._new(np.array(value, dtype=param._data.dtype, order="C", copy=True))
        return Tensor._new(np.array(value, order="C", copy=True))
    if isinstance(value, dict):
        return {k: _copy_value(v, param) for k, v in value.items()}
    return copy.deepcopy(value)
