"""The backward graph as a picture, like the tutorial's figure: Graphviz DOT text, and an optional
render to SVG/PNG when the ``dot`` program is installed."""
import shutil
import subprocess

__all__ = ["to_dot", "render_dot"]


def _leaf_label(t, name):
    shape = "x".join(str(s) for s in t.shape) or "scalar"
    grad = "requires_grad" if t.requires_grad else "no grad"
    return f"{name + ' ' if name else ''}({shape})\\n{grad}"


def to_dot(tensor, params=None) -> str:
    """DOT text of the graph that ``tensor.backward()`` would walk.

    Nodes are ``grad_fn.name()`` boxes; each leaf that requires grad appears as a blue box with its
    shape (and its name, when ``params`` maps names to tensors, e.g. ``dict(a=a, b=b)``). Arrows
    follow the forward direction, from inputs to outputs, as in the tutorial's figure.
    """
    names = {id(t): n for n, t in (params or {}).items()}
    lines = ["digraph autograd {", '  rankdir="BT";', '  node [shape=box, fontname="Helvetica"];']
    ids = {}

    def node_id(obj):
        return ids.setdefault(id(obj), f"n{len(ids)}")

    root = tensor.grad_fn
    if root is None:
        nid = node_id(tensor)
        lines.append(f'  {nid} [label="{_leaf_label(tensor, names.get(id(tensor), ""))}", '
                     'style=filled, fillcolor=lightblue];')
        lines.append("}")
        return "\n".join(lines)
    out_id = node_id(tensor)
    lines.append(f'  {out_id} [label="{_leaf_label(tensor, "output")}", style=filled, '
                 'fillcolor=darkolivegreen1];')
    lines.append(f"  {node_id(root)} -> {out_id};")
    seen, stack = {root}, [root]
    while stack:  # iterative: deep graphs must not overflow the stack
        node = stack.pop()
        var = getattr(node, "variable", None)
        if var is not None:
            label = _leaf_label(var, names.get(id(var), ""))
            lines.append(f'  {node_id(node)} [label="{label}", style=filled, '
                         'fillcolor=lightblue];')
        else:
            lines.append(f'  {node_id(node)} [label="{node.name()}"];')
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            lines.append(f"  {node_id(nxt)} -> {node_id(node)};")
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    lines.append("}")
    return "\n".join(lines)


def render_dot(dot_text: str, path: str, format: str = None) -> str:
    """Render DOT text to ``path`` (format from its suffix: svg, png, pdf) with Graphviz's
    ``dot``. Raises RuntimeError with an install hint when ``dot`` is missing."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("rendering needs the Graphviz 'dot' program (e.g. apt-get install "
                           "graphviz); to_dot() text works without it")
    fmt = format or path.rsplit(".", 1)[-1]
    subprocess.run([exe, f"-T{fmt}", "-o", path], input=dot_text.encode(), check=True)
    return path
