"""JSON Lines: one JSON object per line, strict (no NaN/Infinity, no duplicate keys)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

import orjson

from pattools.errors import DataError
from pattools.io.cbor import MAX_DEPTH
from pattools.io.key_order import ordered


class _JsonProblem(Exception):
    pass


def _pairs_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonProblem(f"duplicate map key {key!r}")
            seen.add(key)
    return result


def _reject_constant(name: str) -> float:
    raise _JsonProblem(f"non-finite number {name} (not valid JSON)")


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_without_duplicates, parse_constant=_reject_constant)


def decode_line(line: bytes) -> object:
    """Parse one JSON text strictly; raises DataError (without location) on any problem."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError("invalid UTF-8 in JSON line") from None
    try:
        value = _DECODER.decode(text)
    except _JsonProblem as problem:
        raise DataError(str(problem)) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise DataError(f"nesting deeper than {MAX_DEPTH}") from None
    if nesting_depth(value) > MAX_DEPTH:
        raise DataError(f"nesting deeper than {MAX_DEPTH}")
    return value


def nesting_depth(value: object) -> int:
    """Container nesting depth (a scalar is 0, ``[]`` is 1), iteratively."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def iter_lines(
    stream: BinaryIO, name: str, *, max_record_bytes: int, prefix: bytes = b""
) -> Iterator[tuple[object, bytes]]:
    """Yield ``(value, raw_line)`` per non-blank line; raw_line excludes the newline."""
    index = 0
    pending = prefix
    first = True
    while True:
        if first and pending:
            line = pending + stream.readline(max_record_bytes + 2)
        else:
            line = stream.readline(max_record_bytes + 2)
        first = False
        if not line:
            return
        if len(line) > max_record_bytes + 1 and not line.endswith(b"\n"):
            raise DataError(f"line longer than --max-record-bytes {max_record_bytes}",
                            input=name, record=index)
        stripped = line.strip()
        if not stripped:
            continue
        try:
            value = decode_line(stripped)
        except DataError as err:
            raise err.located(input=name, record=index) from None
        yield value, stripped
        index += 1


TYPED_ARRAY_DTYPES = {"float64": "<f8", "int64": "<i8", "uint8": "u1"}


def encode_line(value: object) -> bytes:
    """One compact JSON line (with trailing newline): the record's one JSON text (keys in
    schema order, pattools.io.key_order; numbers in shortest round-trip form, floats
    always with a fraction or exponent, integers as integers).

    Typed arrays (``{dtype, shape, data}`` maps whose data is little-endian bytes, as binary
    records carry them in CBOR) become ``data`` lists, so any record converts to JSONL.
    """
    value = ordered(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        pass
    try:
        return orjson.dumps(typed_arrays_as_lists(value), option=orjson.OPT_APPEND_NEWLINE)
    except TypeError as exc:
        raise DataError(f"value not representable in JSON ({exc})") from None


def typed_arrays_as_lists(value: object) -> object:
    """A copy of ``value`` with every typed-array map's byte data decoded to a list."""
    if isinstance(value, dict):
        data = value.get("data")
        if isinstance(data, (bytes, bytearray)) and set(value) == {"dtype", "shape", "data"} \
                and value["dtype"] in TYPED_ARRAY_DTYPES:
            import numpy as np

            dtype = np.dtype(TYPED_ARRAY_DTYPES[value["dtype"]])
            if len(data) % dtype.itemsize:
                raise DataError(f"typed array data of {len(data)} bytes is not a whole number of {value['dtype']}")
            return {**value, "data": np.frombuffer(bytes(data), dtype=dtype).tolist()}
        return {key: typed_arrays_as_lists(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed_arrays_as_lists(item) for item in value]
    return value


def encode_pretty(value: object) -> bytes:
    """Indented JSON document (manifests, sidecars), keys in insertion order."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def decode_document(data: bytes, name: str) -> object:
    """Parse a whole JSON document (manifest, config, bounds file) strictly."""
    try:
        return decode_line(data.strip())
    except DataError as err:
        raise err.located(input=name) from None


def json_text(value: object) -> str:
    """``value`` as Python's json module writes it by default (for messages that quote a value)."""
    return json.dumps(value)
