"""Record validation against schemas/<KIND>.schema.json.

Schemas are written in JSON Schema 2020-12 (the subset every mainstream validator
shares). For speed, each schema is compiled once per process into Python code by
fastjsonschema; a test proves it accepts and rejects exactly what jsonschema does on a
corpus of valid and invalid records. Non-finite numbers are rejected separately (JSON
Schema calls NaN a number). Errors become one-line DataErrors with a field path.
"""

from __future__ import annotations

import hashlib
import marshal
import math
import os
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any, Callable

import fastjsonschema

from pattools.errors import DataError, describe

DEFS_FILE = "defs.schema.json"
RECORD_KINDS: tuple[str, ...] = (
    "PAT_FRAME",
    "PAT_SHARD",
    "PAT_EDIT",
    "PAT_PACK",
    "PAT_SCORE",
    "PAT_SUMMARY",
    "PAT_DIFF",
    "NUPCA_STATE",
    "NUPCA_OBS",
    "NUPCA_TRACE",
)


def schema_dir() -> Path:
    """Where the schema files are: inside the installed package, or the checkout's schemas/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / DEFS_FILE).is_file():
            return candidate
    raise FileNotFoundError("pattools schemas not found (broken installation)")


def _json_text(value: object) -> str:
    from pattools.io import json_text

    return json_text(value)


def _read_json(path: Path) -> dict:
    from pattools.io import decode_document  # (io imports this module)

    return decode_document(path.read_bytes(), str(path))


def _local_refs(value: object) -> object:
    """``value`` with every ``defs.schema.json#/$defs/X`` reference made local (``#/$defs/X``)."""
    if isinstance(value, dict):
        return {key: (item.replace(f"{DEFS_FILE}#/$defs/", "#/$defs/", 1)
                      if key == "$ref" and isinstance(item, str) and item.startswith(f"{DEFS_FILE}#/$defs/")
                      else _local_refs(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [_local_refs(item) for item in value]
    return value


def _sorted(value: object) -> object:
    """A hashable, key-order-independent form of a JSON value (for cache keys)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _sorted(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_sorted(item) for item in value))
    return (type(value).__name__, value)


@cache
def load_schema(name: str) -> dict:
    """The schema ``name`` (a kind such as PAT_FRAME, or PAT_MANIFEST) with shared $defs inlined.

    References ``defs.schema.json#/$defs/X`` become local ``#/$defs/X`` so any validator
    can resolve them without a registry.
    """
    directory = schema_dir()
    schema = _read_json(directory / f"{name}.schema.json")
    defs = _read_json(directory / DEFS_FILE)["$defs"]
    local = _local_refs(schema)
    merged = dict(defs)
    merged.update(local.get("$defs", {}))
    local["$defs"] = merged
    return local


def available_kinds() -> list[str]:
    return [kind for kind in RECORD_KINDS if (schema_dir() / f"{kind}.schema.json").is_file()]


@cache
def _compiled(name: str, trusted: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    schema = dict(load_schema(name))
    # fastjsonschema speaks draft 7 for this subset; $defs pointers resolve as plain JSON pointers.
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    if trusted:
        schema["properties"] = {**schema["properties"], **{key: {} for key in trusted}}
    return _validator(schema)


def _validator(schema: dict) -> Callable[[Any], Any]:
    """fastjsonschema's validator for ``schema``, its compiled code kept on disk.

    Why: generating and compiling a record schema's validator (≈ 150 KB of Python for
    PAT_FRAME) took 50–100 ms of every command's start; unmarshalled from the cache it
    takes a few. The file is named by a hash of the schema, the fastjsonschema version and
    the interpreter's bytecode tag, and written atomically; without a writable cache
    directory the validator is compiled in memory as before.
    """
    text = repr(_sorted(schema))
    key = f"{fastjsonschema.VERSION}\n{sys.implementation.cache_tag}\n{text}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    directory = _validator_cache()
    path = None if directory is None else directory / f"validator_{digest}.marshal"
    code = None
    if path is not None and path.is_file():
        try:
            code = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            code = None
    if code is None:
        source = fastjsonschema.compile_to_code(schema, use_default=False)
        entry = re.search(r"^def (\w+)\(", source, re.M).group(1)  # the first function validates the root
        code = compile(f"{source}\n\nentry = {entry}\n", f"<validator {digest}>", "exec")
        if path is not None:
            try:
                temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                temporary.write_bytes(marshal.dumps(code))
                os.replace(temporary, path)
            except OSError:
                pass
    namespace: dict = {}
    exec(code, namespace)
    return namespace["entry"]


@cache
def _validator_cache() -> Path | None:
    """The directory for generated validators (beside the package's bytecode), or None."""
    directory = Path(__file__).resolve().parent / "__pycache__" / "validators"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory if os.access(directory, os.W_OK) else None


def validate(record: Any, *, kind: str | None = None, input: str | None = None,
             index: int | None = None, check_finite: bool = True, trusted: tuple[str, ...] = ()) -> None:
    """Validate one record (against its own ``kind`` unless ``kind`` is given).

    ``check_finite=False`` skips the NaN/±Inf walk when the caller has already screened
    the record's encoded bytes (see ``pattools.io.cbor.may_hold_nonfinite``).
    ``trusted``: top-level fields whose values the caller knows to be valid (equal, types
    included, to values validated before); they must still be present where required.
    """
    if not isinstance(record, dict):
        raise DataError(f"expected a record (map), got {describe(record)}", input=input, record=index)
    name = kind if kind is not None else record.get("kind")
    if not isinstance(name, str) or name not in _known_names():
        raise DataError(
            f"expected a known kind ({', '.join(available_kinds())}), got {describe(name)}",
            input=input, record=index, path="kind",
        )
    try:
        _compiled(name, trusted)(record)
    except fastjsonschema.JsonSchemaValueException as exc:
        path, message = explain(exc)
        raise DataError(message, input=input, record=index, path=path) from None
    bad = find_nonfinite(record) if check_finite else None
    if bad is not None:
        raise DataError(f"expected a finite number, got {bad[1]}", input=input, record=index, path=bad[0])


def conforms(record: Any, kind: str) -> bool:
    """Whether ``record`` is valid against the schema of ``kind`` (NaN/±Inf count as numbers)."""
    try:
        _compiled(kind)(record)
    except Exception:  # whatever it is, validate() reports it
        return False
    return True


@cache
def _known_names() -> frozenset[str]:
    return frozenset(available_kinds()) | {"PAT_MANIFEST"}


def format_path(parts: list[Any]) -> str:
    """['tokens', 0, 'geom'] → 'tokens[0].geom' (a leading pre-formatted path string is kept)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def explain(exc: fastjsonschema.JsonSchemaValueException) -> tuple[str, str]:
    """(field path, 'expected …, got …') for a fastjsonschema failure."""
    name = exc.name or "data"
    prefix = name[4:].lstrip(".") if name.startswith("data") else name
    parts: list[Any] = [prefix] if prefix else []
    rule = exc.rule
    definition = exc.rule_definition
    value = exc.value
    if rule == "required":
        missing = [key for key in definition if not (isinstance(value, dict) and key in value)]
        path = format_path(parts + missing[:1])
        return path, "expected a value, got nothing (required field missing)"
    if rule == "additionalProperties":
        extra = sorted(str(key) for key in value if key not in (exc.definition.get("properties") or {}))
        if definition is False and extra:
            return format_path(parts + extra[:1]), "expected no such field, got an unknown field"
        return format_path(parts), f"expected {definition}, got {describe(value)}"
    if rule == "type":
        expected = definition if isinstance(definition, str) else " or ".join(definition)
        return format_path(parts), f"expected {_article(expected)}, got {describe(value)}"
    if rule == "const":
        return format_path(parts), f"expected {_json_text(definition)}, got {describe(value)}"
    if rule == "enum":
        options = ", ".join(_json_text(option) for option in definition)
        return format_path(parts), f"expected one of {options}, got {describe(value)}"
    bounds = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<",
              "minItems": "length ≥", "maxItems": "length ≤"}
    if rule in bounds:
        return format_path(parts), f"expected {bounds[rule]} {definition}, got {describe(value)}"
    return format_path(parts), f"expected to satisfy {rule} {_json_text(definition)}, got {describe(value)}"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def find_nonfinite(value: Any) -> tuple[str, str] | None:
    """Path and description of the first NaN/±Inf in ``value`` (depth-first, in key order)."""
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        item, parts = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return format_path(parts), repr(item)
        elif isinstance(item, dict):
            stack.extend((child, parts + [key]) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((child, parts + [i]) for i, child in reversed(list(enumerate(item))))
    return None


def same_value(a: object, b: object) -> bool:
    """Equal with equal types throughout (1, 1.0 and True are equal but encode differently,
    and so do 0.0 and -0.0).

    Containers are compared by C-level equality first; only then are value types checked,
    pairing values in key order (a different key order answers False: a cache miss)."""
    if a is b:
        return True
    if type(a) is not type(b) or a != b:
        return False
    if type(a) is dict:
        return tuple(a) == tuple(b) and all(map(_same_type, a.values(), b.values()))
    if type(a) is list:
        return all(map(_same_type, a, b))
    return True


def _same_type(a: object, b: object) -> bool:
    """Values already equal to Python: same type, and zeros of the same sign."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is float:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return kind not in (dict, list) or same_value(a, b)
