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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pattools import schema
from pattools.errors import DataError
from pattools.io import cbor, jsonl
from pattools.io.shard_reading import ShardReading

if TYPE_CHECKING:  # the shard reader loads where a shard is met
    from pattools.io.frame_tokens import FrameTokens
    from pattools.io.shard_reader import DirectoryPlan, ShardEntry
    from pattools.tokens.frame import TokenFrame

DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024
SMALL_STREAM_BYTES = 256 * 1024  # CBOR streams up to this size are read without the token scanner


@dataclass
class Record:
    """One decoded record with where it came from.

    A PAT_FRAME's ``value`` is its envelope: every field but "tokens", which ``tokens``
    holds (None for other kinds, and for a frame without tokens)."""

    value: dict
    input: str
    index: int
    tokens: FrameTokens | None = None
    _raw: bytes | None = field(default=None, repr=False)  # the record's own bytes, when read from a stream
    _framing: str | None = None  # "cbor" or "jsonl" for _raw

    @classmethod
    def from_frame(cls, envelope: dict, tokens: TokenFrame, input: str, index: int) -> Record:
        """A PAT_FRAME made in memory (its envelope and valid token columns, such as an
        export's) as the readers give one."""
        from pattools.io.frame_tokens import FrameTokens

        return cls(envelope, input, index, FrameTokens(frame=tokens, input=input, index=index))

    @property
    def framing(self) -> str | None:
        """The framing the record was read in (None for frames expanded from a shard)."""
        return self._framing

    def document(self) -> dict:
        """The whole record, its tokens as the maps written."""
        if self.tokens is None:
            return self.value
        return {**self.value, "tokens": self.tokens.maps()}

    def same_bytes(self, other: Record) -> bool:
        """Whether both records were read as the same bytes in the same framing."""
        return self._raw is not None and self._raw == other._raw and self._framing == other._framing


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
    shards: ShardReading | None = None,
    columns: bool = False,
) -> Iterator[Record]:
    """Records of every input in order; ``-`` is stdin. Validates each unless told not to.

    ``shards``: how shard data is read (checksums, --assume values, notices); by default
    checksums are verified and notices dropped.

    A PAT_FRAME's tokens are held by ``Record.tokens``, read when asked for (validated
    here when the reader validates). ``columns``: the caller reads tokens as columns, or
    not at all, rather than as maps; large CBOR streams are then read with the token
    scanner, which leaves the maps undecoded (records and errors are the same either way).
    """
    reading = shards if shards is not None else ShardReading()
    for name in inputs:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            expand = _lone_shards(None, reading) if expand_shards else None
            yield from _read_stream(stream, "<stdin>", validate, max_record_bytes, expand, columns)
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
            yield from _read_stream(stream, name, validate, max_record_bytes, expand, columns)


Expander = Callable[[dict, str, int], Iterator[Record]]


def _read_stream(stream: BinaryIO, name: str, validate: bool, max_record_bytes: int,
                 expand: Expander | None, columns: bool = False) -> Iterator[Record]:
    """Records of one stream; a PAT_SHARD becomes its frames through ``expand`` (if given)."""
    first = stream.read(1)
    if not first:
        return
    framing = sniff(first, name)
    if framing == "cbor" and columns:
        # A small stream is read by the strict reader alone: the same records, checks and
        # errors, without importing the scanner's kernels (start-up of one-frame commands).
        first += stream.read(SMALL_STREAM_BYTES)
    if framing == "cbor" and columns and len(first) > SMALL_STREAM_BYTES:
        from pattools.io.lazy_tokens import iter_items_lazy

        items = iter_items_lazy(stream, name, max_record_bytes=max_record_bytes, prefix=first)
    elif framing == "cbor":
        items = ((value, raw, raw, None) for value, raw in
                 cbor.iter_items(stream, name, max_record_bytes=max_record_bytes, prefix=first))
    else:
        items = ((value, raw, None, None) for value, raw in
                 jsonl.iter_lines(stream, name, max_record_bytes=max_record_bytes, prefix=first))
    validator = _Validator()
    for index, (value, raw, screen, token_bytes) in enumerate(items):
        if not isinstance(value, dict):
            raise DataError("expected a record (map), got " + type(value).__name__,
                            input=name, record=index)
        nonfinite = screen is not None and cbor.may_hold_nonfinite(screen)
        tokens = _take_tokens(value, token_bytes, nonfinite, name, index)
        if nonfinite:  # a frame's tokens are screened when read (FrameTokens)
            bad = schema.find_nonfinite(value)
            if bad is not None:
                raise DataError(f"expected a finite number, got {bad[1]}", input=name,
                                record=index, path=bad[0])
        if validate:
            validator.record(value, tokens, name, index)
        if expand is not None and value.get("kind") == "PAT_SHARD":
            yield from expand(value, name, index)
        else:
            yield Record(value, name, index, tokens, raw, framing)


def _take_tokens(value: dict, token_bytes: bytes | None, screen: bool, name: str, index: int) -> FrameTokens | None:
    """A PAT_FRAME's tokens, taken out of ``value``; other kinds keep theirs, decoded."""
    from pattools.io.frame_tokens import FrameTokens

    if value.get("kind") != "PAT_FRAME":
        if token_bytes is not None:
            from pattools.io.lazy_tokens import decode_tokens

            try:
                value["tokens"] = decode_tokens(token_bytes)
            except DataError as error:
                raise error.located(input=name, record=index) from None
        return None
    if token_bytes is not None:
        del value["tokens"]  # the scanner's placeholder
        return FrameTokens(data=token_bytes, input=name, index=index)
    if "tokens" not in value:
        return None
    return FrameTokens(maps=value.pop("tokens"), screen=screen, input=name, index=index)


def _check_layout(value: dict, tokens: FrameTokens, name: str, index: int) -> None:
    """The tokens against the frame's grid and the codebook (pattools.tokens.layout)."""
    from pattools.tokens.layout import check_token_layout

    try:
        check_token_layout(value.get("sim"), tokens.frame() if tokens._exact() else tokens.maps())
    except DataError as error:
        raise error.located(input=name, record=index) from None


class _Validator:
    """Schema checks of one stream's screened records. A PAT_FRAME's tokens that pass the
    columnar check (pattools.io.token_columns) leave only its envelope to the schema, and
    a sim block equal (types included) to the last one validated is not walked again."""

    def __init__(self) -> None:
        self.sim: dict | None = None

    def record(self, value: dict, tokens: FrameTokens | None, name: str, index: int) -> None:
        """Validate ``value`` (a PAT_FRAME's envelope) and ``tokens``."""
        if value.get("kind") != "PAT_FRAME":
            schema.validate(value, input=name, index=index, check_finite=False)
            return
        if tokens is None:  # the schema names the missing tokens
            schema.validate(value, input=name, index=index, check_finite=False)
        elif tokens._exact():
            self.frame_envelope(value, name, index)
        else:
            schema.validate({**value, "tokens": tokens.maps()}, input=name, index=index, check_finite=False)
            tokens.mark_valid()
            self.sim = value.get("sim")
        if tokens is not None:
            _check_layout(value, tokens, name, index)

    def frame_envelope(self, value: dict, name: str, index: int) -> None:
        """Validate a PAT_FRAME without its tokens (checked elsewhere)."""
        from pattools.schema import same_value

        sim = value.get("sim")
        trusted = ("sim",) if self.sim is not None and same_value(sim, self.sim) else ()
        schema.validate({**value, "tokens": []}, input=name, index=index, check_finite=False, trusted=trusted)
        self.sim = sim


def _lone_shards(path: Path | None, reading: ShardReading) -> Expander:
    """Expands shards read outside a directory: their own sim, or (the original's) one
    from a manifest.json beside the file or from --assume."""

    def expand(shard: dict, name: str, index: int) -> Iterator[Record]:
        from pattools.io.shard_reader import expand_items, lone_shard_sim

        sim = shard["sim"] if "sim" in shard else lone_shard_sim(shard, path, name, index, reading)
        yield from _shard_frames(expand_items(shard, name, index, sim), index)

    return expand


def _read_shard_directory(path: Path, name: str, validate: bool, max_record_bytes: int,
                          reading: ShardReading) -> Iterator[Record]:
    from pattools.io.shard_reader import DirectoryPlan

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
        from pattools.io.shard_reader import expand_items

        plan.check_shard(entry, shard, name, index)
        yield from _shard_frames(expand_items(shard, name, index, plan.sim), index)

    return expand


def _shard_frames(items: Iterator[tuple[str, dict, TokenFrame | None]], index: int) -> Iterator[Record]:
    from pattools.io.frame_tokens import FrameTokens

    for item_name, frame, columns in items:
        tokens = FrameTokens(maps=frame.pop("tokens"), frame=columns, input=item_name, index=index)
        yield Record(frame, item_name, index, tokens)
