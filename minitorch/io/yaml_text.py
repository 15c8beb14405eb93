"""YAML for configs, read defensively: bounded nesting and alias expansion, no duplicate keys.

``yaml.safe_load`` runs no code, but it still trusts the document's shape: a 400-byte alias bomb
(each anchor referring to nine copies of the one before) builds a structure of a billion values
that every later walk expands; a 5000-deep nesting overflows the recursive composer; and a
repeated key (a second ``model:`` block) silently replaces the first. Here the document is read
in three cheap passes, each bounded by the size of the text:

1. the event stream (an iterative parser) is scanned for nesting depth, before anything recursive
   runs;
2. the node graph is composed and walked once per node, shared (aliased) nodes included, to total
   the number of values the document expands to and to find duplicate keys with both lines;
3. only then are Python objects constructed.
"""
import yaml

__all__ = ["YamlInputError", "parse_yaml", "MAX_DEPTH", "MAX_VALUES"]

MAX_DEPTH = 64          # a config is 3 levels deep; 64 leaves room for any hand-written data
MAX_VALUES = 100_000    # values after alias expansion; a config holds about 60


class YamlInputError(ValueError):
    """The text is not YAML a config can be read from; the message is one line with its place
    (``source:line: detail``); ``detail`` is the part after the place."""

    def __init__(self, where, detail):
        super().__init__(f"{where}: {detail}")
        self.detail = detail


def _where(source, mark):
    return f"{source}:{mark.line + 1}" if mark is not None else source


def _check_depth(text, source):
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlInputError(_where(source, event.start_mark),
                                     f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _children(node, path):
    """(path, node) of each child: values of a mapping are named by their key, items by index."""
    if isinstance(node, yaml.SequenceNode):
        return [(f"{path}[{i}]", child) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        named = []
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            named += [(path, key), (f"{path}.{name}" if path else name, value)]
        return named
    return []


def _check_duplicates(node, path, source):
    seen = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        ident = (key.tag, key.value)
        if ident in seen:
            dotted = f"{path}.{key.value}" if path else key.value
            raise YamlInputError(_where(source, key.start_mark),
                                 f"duplicate key {dotted!r} (first at line {seen[ident] + 1}; "
                                 f"the second would silently replace the first)")
        seen[ident] = key.start_mark.line


def _check_graph(root, source):
    """Total expanded size (each node's size computed once, however often it is aliased) and
    duplicate keys, in one iterative post-order walk."""
    size, open_ = {}, set()
    stack = [(root, "", False)]
    while stack:
        node, path, done = stack.pop()
        if id(node) in size and not done:
            continue
        children = _children(node, path)
        if not done:
            if id(node) in open_:   # reached again before its own size is known: a cycle
                raise YamlInputError(_where(source, node.start_mark),
                                     f"{path or 'the root'} is an alias of a value that contains "
                                     f"it (a cycle)")
            open_.add(id(node))
            if isinstance(node, yaml.MappingNode):
                _check_duplicates(node, path, source)
            stack.append((node, path, True))
            stack.extend((child, name, False) for name, child in children
                         if id(child) not in size)
            continue
        size[id(node)] = 1 + sum(size[id(child)] for _, child in children)
        if size[id(node)] > MAX_VALUES:
            raise YamlInputError(_where(source, node.start_mark),
                                 f"expands to more than {MAX_VALUES} values through aliases "
                                 f"(an alias bomb?)")


def parse_yaml(text, source="config"):
    """The Python object of the YAML ``text``; ``YamlInputError`` (one line, ``source:line:``
    first) for invalid YAML, deep nesting, alias bombs and duplicate keys."""
    try:
        _check_depth(text, source)
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _check_graph(root, source)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlInputError(where, f"invalid YAML: {what}") from None
