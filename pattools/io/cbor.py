"""CBOR sequences (RFC 8742): strict incremental decoding and canonical encoding.

Decoding is strict: any tag, a duplicate map key, a non-string map key, nesting deeper
than 64 and an item larger than the record-size limit are data errors, and they are found
by the C decoder (or by checking declared lengths) before the item costs memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO

import cbor2

from pattools.errors import DataError

MAX_DEPTH = 64
CHUNK_BYTES = 1 << 20

# Tags the C decoder would otherwise turn into Python objects (dates, bignums, sets, …).
_SEMANTIC_TAGS = (0, 1, 2, 3, 4, 5, 21, 22, 23, 24, 25, 28, 29, 30, 32, 35, 36, 37, 52, 54,
                  100, 256, 258, 260, 261, 1004, 55799)


class _TagFound(Exception):
    def __init__(self, tag: int) -> None:
        super().__init__(tag)
        self.tag = tag


def _reject_tag(tag: int):
    def reject(*_args):
        raise _TagFound(tag)

    return reject


def _reject_unknown_tag(_decoder, tag):
    raise _TagFound(tag.tag)


_SEMANTIC_REJECTS = {tag: _reject_tag(tag) for tag in _SEMANTIC_TAGS}


def encode(obj: object) -> bytes:
    """Canonical CBOR (sorted keys, shortest forms, definite lengths, no tags)."""
    return cbor2.dumps(obj, canonical=True)


def decode_one(data: bytes) -> object:
    """Strictly decode a buffer holding exactly one CBOR item."""
    items = list(iter_items(io.BytesIO(data), "<bytes>", max_record_bytes=max(len(data), 1)))
    if len(items) != 1:
        raise DataError(f"expected one CBOR item, found {len(items)}")
    return items[0][0]


def _make_decoder(buffer: io.BytesIO) -> cbor2.CBORDecoder:
    return cbor2.CBORDecoder(
        buffer,
        tag_hook=_reject_unknown_tag,
        semantic_decoders=_SEMANTIC_REJECTS,
        max_depth=MAX_DEPTH,
        allow_duplicate_keys=False,
        strict_hashable_types=True,
        allow_indefinite=True,
        read_size=65536,  # the buffer is in memory: reading ahead saves a call per small item
    )


def iter_items(
    stream: BinaryIO, name: str, *, max_record_bytes: int, prefix: bytes = b""
) -> Iterator[tuple[object, bytes]]:
    """Yield ``(value, raw_bytes)`` for each item of a CBOR sequence read from ``stream``."""
    buffer = prefix
    index = 0
    eof = False
    while True:
        if not buffer:
            if eof:
                return
            buffer = stream.read(CHUNK_BYTES)
            if not buffer:
                return
        view = io.BytesIO(buffer)
        decoder = _make_decoder(view)
        start = 0
        while start < len(buffer):
            try:
                value = decoder.decode()
            except cbor2.CBORDecodeEOF:
                break
            except _TagFound as found:
                raise DataError(f"CBOR tag {found.tag} found (pattools data carries no tags)",
                                input=name, record=index) from None
            except cbor2.CBORDecodeError as exc:
                tag = _tag_in_chain(exc)
                if tag is not None:
                    raise DataError(f"CBOR tag {tag} found (pattools data carries no tags)",
                                    input=name, record=index) from None
                raise DataError(_describe_decode_error(exc), input=name, record=index) from None
            except RecursionError:
                raise DataError(f"nesting deeper than {MAX_DEPTH}", input=name, record=index) from None
            end = view.tell()
            if end - start > max_record_bytes:
                raise _oversize(name, index, end - start, max_record_bytes)
            yield value, buffer[start:end]
            index += 1
            start = end
        rest = buffer[start:]
        if eof:
            if rest:
                raise DataError(f"truncated final item ({len(rest)} bytes of an incomplete CBOR item)",
                                input=name, record=index)
            return
        needed = declared_size(rest)
        if needed is not None and needed > max_record_bytes:
            raise _oversize(name, index, needed, max_record_bytes)
        if len(rest) > max_record_bytes:
            raise _oversize(name, index, len(rest), max_record_bytes)
        more = stream.read(max(CHUNK_BYTES, len(rest)))
        if not more:
            eof = True
        buffer = rest + more


def _oversize(name: str, index: int, size: int, limit: int) -> DataError:
    return DataError(f"item of at least {size} bytes exceeds --max-record-bytes {limit}",
                     input=name, record=index)


def _tag_in_chain(exc: BaseException) -> int | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, _TagFound):
            return current.tag
        current = current.__cause__ or current.__context__
        seen += 1
    match = re.search(r"semantic tag (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _describe_decode_error(exc: Exception) -> str:
    text = str(exc)
    if "Duplicate map key" in text:
        return "duplicate map key " + text.split("Duplicate map key:", 1)[1].strip()
    if "map key must be" in text:
        return "map key is not a text string"
    if "nesting depth" in text:
        return f"nesting deeper than {MAX_DEPTH}"
    return f"malformed CBOR ({text})"


def declared_size(data: bytes) -> int | None:
    """Lower bound on the size of the first item from its declared lengths, or None.

    Walks only the headers present in ``data``; used to refuse an item whose declared
    lengths exceed the record limit before reading its body.
    """
    total = 0
    pos = 0
    pending = 1  # items still to account for at this level (flattened count)
    n = len(data)
    while pending > 0 and pos < n:
        head = data[pos]
        major, info = head >> 5, head & 0x1F
        pos += 1
        if info < 24:
            arg = info
        elif info in (24, 25, 26, 27):
            size = 1 << (info - 24)
            if pos + size > n:
                return None
            arg = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        elif info == 31:
            return None  # indefinite length: no declared size
        else:
            return None
        pending -= 1
        if major in (2, 3):
            total = max(total, pos + arg)
            if pos + arg > n:
                return pos + arg
            pos += arg
        elif major == 4:
            pending += arg
            total = max(total, pos + arg)
        elif major == 5:
            pending += 2 * arg
            total = max(total, pos + 2 * arg)
        elif major == 7 and info in (25, 26, 27):
            pass
        total = max(total, pos)
    return total if total > n else None


# Every encoding of ±Inf and the standard quiet NaN in half, single and double width.
# (Canonical encoders write non-finite values as half floats.) A match only triggers the
# exact walk, so a pattern met inside other bytes costs time, never correctness; NaNs with
# non-standard payloads are caught where numbers become arrays (TokenFrame.from_tokens).
_NONFINITE_PATTERNS = tuple(
    bytes.fromhex(text) for text in (
        "f97c00", "f9fc00", "f97e00", "f9fe00",
        "fa7f800000", "faff800000", "fa7fc00000", "faffc00000",
        "fb7ff0000000000000", "fbfff0000000000000", "fb7ff8000000000000", "fbfff8000000000000",
    ))
_NONFINITE_SCREEN = re.compile(b"|".join(re.escape(pattern) for pattern in _NONFINITE_PATTERNS))


def may_hold_nonfinite(raw: bytes) -> bool:
    """Cheap screen of encoded bytes for NaN/±Inf (see _NONFINITE_PATTERNS)."""
    return _NONFINITE_SCREEN.search(raw) is not None

