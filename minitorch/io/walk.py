"""Depth-first walk of nested name -> value trees (HDF5 groups, unpickled dicts), iteratively.

A hostile file can nest thousands of levels deep; a recursive walk would end in RecursionError,
so both the HDF5 state-dict reader and the .pth reader walk with an explicit stack.
"""

__all__ = ["dotted_leaves"]


def dotted_leaves(items, branch, max_depth=None, too_deep=None):
    """Yield ``(dotted key, leaf)`` depth first, in the order of ``items``.

    ``items`` iterates ``(name, value)``; ``branch(value, key)`` returns an iterator of the
    children of a branch or None for a leaf. Past ``max_depth`` levels ``too_deep(key)`` is
    called (it raises).
    """
    stack = [("", iter(items))]
    while stack:
        prefix, children = stack[-1]
        item = next(children, None)
        if item is None:
            stack.pop()
            continue
        name, value = item
        key = f"{prefix}{name}"
        sub = branch(value, key)
        if sub is None:
            yield key, value
            continue
        if max_depth is not None and len(stack) >= max_depth:
            too_deep(key)
        stack.append((key + ".", iter(sub)))
