"""Reading records from any PAT input: a stream (CBOR sequence or JSONL, sniffed from the
first byte), a shard file, or a shard directory (manifest.json + pat_<seed>-<segment>.cbor).

Shards expand into PAT_FRAME records whose ``sim`` comes from the shard or the manifest,
so every consumer sees one record shape; directories are read as their manifest describes
them, checksums verified (pattools.io.shard_reader).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pattools import schema
from pattools.errors import DataError
from pattools.io import cbor, jsonl
from pattools.io.shard_reader import DirectoryPlan, ShardEntry, ShardReading, expand_items, lone_shard_sim

if TYPE_CHECKING:
    from pattools.io.lazy_tokens import EncodedTokens
    from pattools.tokens.frame import TokenFrame

DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024
SMALL_STREAM_BYTES = 256 * 1024  # validated streams up to this size are read without the token scanner


@dataclass
class Record:
    """One decoded record with where it came from."""

    value: dict
    input: str
    index: int
    raw: bytes | None = None  # the record's own encoded bytes, when read from a stream
    framing: str | None = None  # "cbor" or "jsonl" for raw
    columns: TokenFrame | None = None  # a validated PAT_FRAME's tokens as columns (when the fast check took them)
    encoded_tokens: EncodedTokens | None = None  # with lazy_tokens: the tokens, still encoded ("tokens" is [])


def sniff(first: bytes, name: str) -> str:
    """Framing from the first byte: a CBOR map header, or '{' / whitespace for JSONL."""
    byte = first[0]
    if 0xA0 <= byte <= 0xBB or byte == 0xBF:
        return "cbor"
    if first[:1] in (b"{", b" ", b"\t", b"\r", b"\n"):
        return "jsonl"
    raise DataError(
        f"expected a CBOR sequence of maps or JSON lines, got first byte 0x{byte:02x}",
        input=name, record=0,
    )


def read_records(
    inputs: Iterable[str],
    *,
    validate: bool = True,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    stdin: BinaryIO | None = None,
    expand_shards: bool = True,
    lazy_tokens: bool = False,
    shards: ShardReading | None = None,
) -> Iterator[Record]:
    """Records of every input in order; ``-`` is stdin. Validates each unless told not to.

    ``shards``: how shard data is read (checksums, --assume values, notices); by default
    checksums are verified and notices dropped.

    ``lazy_tokens``: a CBOR record's top-level "tokens" value is not decoded: the record
    holds an empty token array and ``encoded_tokens`` (pattools.io.lazy_tokens). With
    validation, a PAT_FRAME's tokens are then read as checked ``columns`` straight from
    their bytes, and only where that is not possible decoded into the record (and
    ``encoded_tokens`` is None) and validated as usual.
    """
    reading = shards if shards is not None else ShardReading()
    for name in inputs:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            expand = _lone_shards(None, reading) if expand_shards else None
            yield from _read_stream(stream, "<stdin>", validate, max_record_bytes, expand, lazy_tokens)
            continue
        path = Path(name)
        if path.is_dir():
            yield from _read_shard_directory(path, name, validate, max_record_bytes, reading)
            continue
        try:
            stream = open(path, "rb")
        except FileNotFoundError:
            raise DataError("no such file or directory", input=name) from None
        except IsADirectoryError:
            raise DataError("is a directory", input=name) from None
        except PermissionError:
            raise DataError("permission denied", input=name) from None
        with stream:
            expand = _lone_shards(path, reading) if expand_shards else None
            yield from _read_stream(stream, name, validate, max_record_bytes, expand, lazy_tokens)


Expander = Callable[[dict, str, int], Iterator[Record]]


def _read_stream(stream: BinaryIO, name: str, validate: bool, max_record_bytes: int,
                 expand: Expander | None, lazy_tokens: bool = False) -> Iterator[Record]:
    """Records of one stream; a PAT_SHARD becomes its frames through ``expand`` (if given)."""
    first = stream.read(1)
    if not first:
        return
    framing = sniff(first, name)
    if framing == "cbor" and lazy_tokens and validate:
        # A small stream is read by the strict reader alone: the same records, checks and
        # errors, without importing the scanner's kernels (start-up of one-frame commands).
        first += stream.read(SMALL_STREAM_BYTES)
        lazy_tokens = len(first) > SMALL_STREAM_BYTES
    if framing == "cbor" and lazy_tokens:
        from pattools.io.lazy_tokens import iter_items_lazy

        items = iter_items_lazy(stream, name, max_record_bytes=max_record_bytes, prefix=first)
    elif framing == "cbor":
        items = ((value, raw, raw, None) for value, raw in
                 cbor.iter_items(stream, name, max_record_bytes=max_record_bytes, prefix=first))
    else:
        items = ((value, raw, None, None) for value, raw in
                 jsonl.iter_lines(stream, name, max_record_bytes=max_record_bytes, prefix=first))
    validator = _Validator()
    for index, (value, raw, screen, encoded_tokens) in enumerate(items):
        if not isinstance(value, dict):
            raise DataError("expected a record (map), got " + type(value).__name__,
                            input=name, record=index)
        if screen is not None and cbor.may_hold_nonfinite(screen):
            bad = schema.find_nonfinite(value)
            if bad is not None:
                raise DataError(f"expected a finite number, got {bad[1]}", input=name,
                                record=index, path=bad[0])
        columns = None
        if validate and encoded_tokens is not None and value.get("kind") == "PAT_FRAME":
            columns = encoded_tokens.columns()
            if columns is None:  # another layout, or invalid: decode the maps and check them
                try:
                    value["tokens"] = encoded_tokens.decode()
                except DataError as error:
                    raise error.located(input=name, record=index) from None
                encoded_tokens = None
                columns = validator.record(value, name, index)
            else:
                validator.frame_envelope(value, name, index)
        elif validate:
            columns = validator.record(value, name, index)
        if validate and value.get("kind") == "PAT_FRAME":
            _check_layout(value, columns, name, index)
        if expand is not None and value.get("kind") == "PAT_SHARD":
            yield from expand(value, name, index)
        else:
            yield Record(value, name, index, raw, framing, columns, encoded_tokens)


def _check_layout(value: dict, columns: TokenFrame | None, name: str, index: int) -> None:
    """The tokens against the frame's grid and the codebook (pattools.tokens.layout)."""
    from pattools.tokens.layout import check_token_layout

    try:
        check_token_layout(value.get("sim"), columns if columns is not None else value.get("tokens"))
    except DataError as error:
        raise error.located(input=name, record=index) from None


class _Validator:
    """Schema checks of one stream's screened records. A PAT_FRAME's tokens that pass the
    columnar check (pattools.io.token_columns) leave only its envelope to the schema, and
    a sim block equal (types included) to the last one validated is not walked again."""

    def __init__(self) -> None:
        self.sim: dict | None = None

    def record(self, value: dict, name: str, index: int) -> TokenFrame | None:
        """Validate ``value``; a PAT_FRAME's token columns when the columnar check took them."""
        if value.get("kind") != "PAT_FRAME":
            schema.validate(value, input=name, index=index, check_finite=False)
            return None
        from pattools.io.token_columns import checked_columns  # numpy: only when frames are read

        columns = checked_columns(value.get("tokens"))
        if columns is None:
            schema.validate(value, input=name, index=index, check_finite=False)
            self.sim = value.get("sim")
        else:
            self.frame_envelope(value, name, index)
        return columns

    def frame_envelope(self, value: dict, name: str, index: int) -> None:
        """Validate a PAT_FRAME without its tokens (checked elsewhere)."""
        from pattools.schema import same_value

        sim = value.get("sim")
        trusted = ("sim",) if self.sim is not None and same_value(sim, self.sim) else ()
        envelope = value if value.get("tokens") == [] else {**value, "tokens": []}
        schema.validate(envelope, input=name, index=index, check_finite=False, trusted=trusted)
        self.sim = sim


def _lone_shards(path: Path | None, reading: ShardReading) -> Expander:
    """Expands shards read outside a directory: their own sim, or (the original's) one
    from a manifest.json beside the file or from --assume."""

    def expand(shard: dict, name: str, index: int) -> Iterator[Record]:
        sim = shard["sim"] if "sim" in shard else lone_shard_sim(shard, path, name, index, reading)
        for item_name, frame, columns in expand_items(shard, name, index, sim):
            yield Record(frame, item_name, index, columns=columns)

    return expand


def _read_shard_directory(path: Path, name: str, validate: bool, max_record_bytes: int,
                          reading: ShardReading) -> Iterator[Record]:
    plan = DirectoryPlan(path, name, reading)
    for entry in plan.entries:
        data = plan.load(entry)
        shard_name = plan.shard_name(entry)
        seen = 0
        for record in _read_stream(io.BytesIO(data), shard_name, validate, max_record_bytes,
                                   _directory_shards(plan, entry)):
            if record.input == shard_name:  # not a frame of an expanded shard
                raise DataError(f"expected a PAT_SHARD, got {record.value.get('kind')!r}",
                                input=shard_name, record=record.index, path="kind")
            seen += 1
            yield record
        if seen == 0 and plan.manifest["frames"] > 0:
            raise DataError("expected one PAT_SHARD record, got none", input=shard_name)


def _directory_shards(plan: DirectoryPlan, entry: ShardEntry) -> Expander:
    def expand(shard: dict, name: str, index: int) -> Iterator[Record]:
        plan.check_shard(entry, shard, name, index)
        for item_name, frame, columns in expand_items(shard, name, index, plan.sim):
            yield Record(frame, item_name, index, columns=columns)

    return expand
