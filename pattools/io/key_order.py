"""Key order of JSON text: a record's keys in the order its schema lists the properties.

Why: one record must have one JSON text whatever command wrote it (docs/design.md §3), so
``diff`` and ``cmp`` work on JSON lines. CBOR decodes with canonical (length-first) key
order, builders insert keys in their own order; the schema is the one order both agree on.
Rules, applied at every depth: the properties a schema node lists come first, in its
order; any other key follows, sorted by code point; ``kind`` and ``version`` open every
record. Values keep their types (an integer stays an integer).

Speed: walking a frame's token maps key by key in Python costs about as much as decoding
the frame's CBOR, which would slow ``pat-cat``'s CBOR→JSONL conversion by a third. Each
closed schema node is therefore compiled once per process into a small straight-line
Python function that builds the ordered map with dict displays (no sorting, no per-key
lookups of a plan; about a quarter of the walk's time, measured on 9-token frames); it
checks that every map holds no key beyond those it placed, and any surprise (an unknown
key, a wrong type) sends the whole record to the general walk, which handles every shape
and gives the same result (tests/test_json_text.py checks both agree on arbitrary data).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from pattools import schema

_FIRST = ("kind", "version")
_LEAF_TYPES = frozenset(("number", "integer", "string", "boolean", "null"))


class _Node:
    """How to order one value: an object's listed properties (``props``, with their
    nodes), the node of any other key (``other``), and an array's item node (``items``).
    A ``None`` node is a scalar's: nothing to order inside (unless the data says otherwise)."""

    __slots__ = ("is_object", "is_array", "props", "required", "other", "closed", "items", "fast")

    def __init__(self) -> None:
        self.is_object = True
        self.is_array = False
        self.props: dict[str, _Node | None] = {}
        self.required: frozenset[str] = frozenset()
        self.other: _Node | None = FREE_MARK  # type: ignore[assignment]
        self.closed = False
        self.items: _Node | None = FREE_MARK  # type: ignore[assignment]
        self.fast: Callable[[object], object] | None = None


FREE_MARK = object()  # "no schema here": keys sorted at every depth


def ordered(record: object) -> object:
    """``record`` with the keys of every map in schema order (a new value where needed)."""
    if type(record) is not dict:
        return _walk(record, FREE_MARK)
    kind = record.get("kind")
    node = _root(kind if type(kind) is str else None)
    if node.fast is not None:
        try:
            return node.fast(record)
        except (KeyError, TypeError, _Unexpected):
            pass
    return _walk(record, node)


class _Unexpected(Exception):
    """The compiled order met a map with keys it did not place."""


@cache
def _root(kind: str | None) -> _Node:
    """The compiled node of a record kind (a free node with kind and version first when
    the kind has no schema)."""
    if kind in schema.available_kinds():
        document = schema.load_schema(kind)
        node = _compile(document, document["$defs"], {})
    else:
        node = _Node()
    props = {key: node.props.get(key) for key in _FIRST}
    props.update((key, value) for key, value in node.props.items() if key not in props)
    node.props = props
    node.fast = _generate(node) if node.closed else None
    return node


def _compile(spec: object, defs: dict, seen: dict[str, _Node]) -> _Node | None:
    """The node of schema ``spec`` ($refs resolved; one node per definition, shared)."""
    if not isinstance(spec, dict):
        return FREE_MARK  # type: ignore[return-value]
    ref = spec.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return seen[name]
        target = defs.get(name)
        node = _compile(target, defs, seen)
        if isinstance(node, _Node):
            seen[name] = node
        return node
    types = spec.get("type")
    types = {types} if isinstance(types, str) else set(types or ())
    has_object = "object" in types or "properties" in spec or "additionalProperties" in spec
    has_array = "array" in types or "items" in spec
    if not has_object and not has_array:
        if types and types <= _LEAF_TYPES or "const" in spec or "enum" in spec:
            return None
        return FREE_MARK  # type: ignore[return-value]  # anything may be here ("data", "stage")
    node = _Node()
    node.is_object, node.is_array = has_object, has_array
    if has_object:
        node.props = {key: _compile(value, defs, seen) for key, value in (spec.get("properties") or {}).items()}
        node.required = frozenset(spec.get("required") or ())
        extra = spec.get("additionalProperties", True)
        node.closed = extra is False
        node.other = None if extra is False else _compile(extra, defs, seen) if isinstance(extra, dict) \
            else FREE_MARK
    if has_array:
        node.items = _compile(spec.get("items"), defs, seen) if "items" in spec else FREE_MARK
    if has_object and not has_array and node.closed:
        node.fast = _generate(node)
    return node


def _walk(value: object, node: object) -> object:
    """The general order of ``value`` under ``node`` (any shape, any data). A value where
    the schema expects a scalar is kept as it is, as the compiled functions keep it."""
    if node is None:
        return value
    kind = type(value)
    if kind is dict:
        if not value:
            return value
        if node is FREE_MARK:
            return {key: _walk(value[key], FREE_MARK) for key in sorted(value)}
        props = node.props
        out = {key: _walk(value[key], props[key]) for key in props if key in value}
        if len(out) != len(value):
            other = node.other
            for key in sorted(key for key in value if key not in props):
                out[key] = _walk(value[key], other)
        return out
    if kind is list:
        items = FREE_MARK if node is FREE_MARK else node.items
        if items is None or not isinstance(items, _Node) and not any(type(item) in (dict, list) for item in value):
            return value
        return [_walk(item, items) for item in value]
    return value


def _generate(node: _Node) -> Callable[[object], object]:
    """A function that orders a map of ``node``'s closed shape, raising _Unexpected,
    KeyError or TypeError for anything else (the caller then takes the general walk).

    The map and its closed child maps are built inline (one call per map of maps, not
    per map), each with a dict display of its leading required keys and a size check
    that refuses any key it did not place."""
    env: dict[str, object] = {"_Unexpected": _Unexpected, "_walk": _walk, "_list": _list}
    lines: list[str] = []
    _emit(node, "d", "o", env, lines, inline=True)
    source = "\n".join(["def order(d):"] + ["    " + line for line in lines] + ["    return o"])
    exec(source, env)  # noqa: S102 - code built from schema keys via repr()
    return env["order"]  # type: ignore[return-value]


def _emit(node: _Node, source: str, target: str, env: dict[str, object], lines: list[str], *,
          inline: bool) -> None:
    """Statements that build ``target`` from the map ``source`` under ``node``."""
    present = {key: f"p{target}_{position}" for position, key in enumerate(node.props) if key not in node.required}
    lines.extend(f"{flag} = {key!r} in {source}" for key, flag in present.items())
    size = " + ".join([str(len(node.required & node.props.keys()))] + list(present.values()))
    lines.append(f"if len({source}) != {size}: raise _Unexpected")
    display: list[str] = []
    tail: list[str] = []
    for position, (key, child) in enumerate(node.props.items()):
        item = f"{source}[{key!r}]"
        build: list[str] = []
        if inline and isinstance(child, _Node) and child.is_object and not child.is_array and child.closed:
            value, part = f"{target}_{position}", f"{source}_{position}"
            build.append(f"{part} = {item}")
            _emit(child, part, value, env, build, inline=False)
        else:
            value = _value_code(item, child, f"f_{target}_{position}", env)
        if key not in node.required:
            tail += [f"if {present[key]}:"] + [f"    {line}" for line in build]
            tail.append(f"    {target}[{key!r}] = {value}")
        elif tail:
            tail += build + [f"{target}[{key!r}] = {value}"]
        else:
            lines.extend(build)
            display.append(f"{key!r}: {value}")
    lines.append(f"{target} = {{{', '.join(display)}}}")
    lines.extend(tail)


def _value_code(expression: str, child: object, name: str, env: dict[str, object]) -> str:
    """Python source of ``expression`` ordered under ``child``."""
    if child is None:
        return expression
    if isinstance(child, _Node) and not child.is_array and child.fast is not None:
        env[name] = child.fast
        return f"{name}({expression})"
    if isinstance(child, _Node) and not child.is_object:
        items = child.items
        if isinstance(items, _Node) and not items.is_array and items.fast is not None:
            env[name] = items.fast
            return f"[{name}(x) for x in _list({expression})]"
        if items is None:
            return f"_list({expression})"
    env[name] = child
    return f"_walk({expression}, {name})"


def _list(value: object) -> list:
    """``value`` when it is a list (the schema's items decide about its contents)."""
    if type(value) is not list:
        raise TypeError
    return value
