"""CBOR sequences (RFC 8742): strict incremental decoding and canonical encoding.

Decoding is strict: any tag, a duplicate map key, a non-string map key, nesting deeper
than 64 and an item larger than the record-size limit are data errors, and they are found
by the C decoder (or by checking declared lengths) before the item costs memory.

One exception, for data the original exporter wrote: a map entry ``heads: undefined``
(CBOR simple value 23) means the entry is absent (``absent_undefined_heads``). ``undefined``
anywhere else stays what it is, and the schema refuses it.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

import cbor2

from pattools.collector import collector_paused
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


# "heads" followed by undefined: the original writes it in every token (README "Shard directories")
_UNDEFINED_HEADS = b"\x65heads\xf7"


def absent_undefined_heads(value: object, raw: bytes) -> object:
    """``value`` (decoded from ``raw``) with every ``heads: undefined`` map entry removed.

    The bytes are screened first, so data without that entry costs one substring search.
    """
    if _UNDEFINED_HEADS in raw:
        _drop_undefined_heads(value)
    return value


def _drop_undefined_heads(value: object) -> None:
    if type(value) is dict:
        if value.get("heads", None) is cbor2.undefined:
            del value["heads"]
        for item in value.values():
            if type(item) in (dict, list):
                _drop_undefined_heads(item)
    elif type(value) is list:
        for item in value:
            if type(item) in (dict, list):
                _drop_undefined_heads(item)


def _make_decoder(buffer: BinaryIO, read_size: int = 65536) -> cbor2.CBORDecoder:
    return cbor2.CBORDecoder(
        buffer,
        tag_hook=_reject_unknown_tag,
        semantic_decoders=_SEMANTIC_REJECTS,
        max_depth=MAX_DEPTH,
        allow_duplicate_keys=False,
        strict_hashable_types=True,
        allow_indefinite=True,
        read_size=read_size,  # reading ahead saves a call per small item
    )


def iter_items(
    stream: BinaryIO, name: str, *, max_record_bytes: int, prefix: bytes = b""
) -> Iterator[tuple[object, bytes]]:
    """Yield ``(value, raw_bytes)`` for each item of a CBOR sequence read from ``stream``."""
    source = _Source(stream)
    buffer = prefix
    index = 0
    while True:
        if not buffer:
            buffer = source.read(CHUNK_BYTES)
            if not buffer:
                return
        view = io.BytesIO(buffer)
        decoder = _make_decoder(view)
        start = 0
        while start < len(buffer):
            value = _decode_next(decoder, name, index)
            if value is _END:
                break
            end = view.tell()
            if end - start > max_record_bytes:
                raise _oversize(name, index, end - start, max_record_bytes)
            raw = buffer[start:end]
            yield absent_undefined_heads(value, raw), raw
            index += 1
            start = end
        if start == len(buffer):
            buffer = b""
            continue
        # The item at ``start`` runs past the buffer: decode it once while reading on.
        spill = _Spill(source, buffer[start:], max_record_bytes)
        value = spill.decode(name, index)
        raw = spill.item()
        yield absent_undefined_heads(value, raw), raw
        index += 1
        buffer = spill.after()


_END = object()


def _decode_next(decoder: cbor2.CBORDecoder, name: str, index: int) -> object:
    """The next item, or _END when the bytes ran out inside it; any other failure is a DataError."""
    try:
        return decoder.decode()
    except cbor2.CBORDecodeEOF:
        return _END
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


class _Source:
    """The input stream, with bytes that were read too early put back in front of it."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.pushed = b""
        self.failure: BaseException | None = None  # a read error met while reading early

    def read(self, n: int) -> bytes:
        if len(self.pushed) >= n:
            out, self.pushed = self.pushed[:n], self.pushed[n:]
            return out
        if self.failure is not None:
            self.raise_failure()
        more = self.stream.read(n - len(self.pushed))
        out, self.pushed = self.pushed + more, b""
        return out

    def raise_failure(self) -> None:
        failure, self.failure = self.failure, None
        raise failure  # type: ignore[misc]


class _Spill:
    """One item that outgrew the buffer, fed to a single decoder as a seekable file.

    Decoding the buffer again after every read costs time quadratic in the item's size.
    Yet the window grows exactly as such a loop grows its buffer: by
    ``max(CHUNK_BYTES, size)`` per read, after the same checks (declared size, then size,
    against the limit), so refusals and their sizes do not depend on the decoder reading
    ahead. A check that fails only stops the growth; it becomes the error when the decoder
    needs more bytes. Bytes read beyond the window that held the item go back to the source.
    """

    def __init__(self, source: _Source, data: bytes, limit: int) -> None:
        self.source = source
        self.data = bytearray(data)
        self.limit = limit
        self.windows = [len(data)]
        self.pos = 0
        self.end = 0
        self.eof = False
        self.refusal: int | None = None  # size for the oversize error, once a check failed

    def decode(self, name: str, index: int) -> object:
        """The item, or the DataError the buffered loop would have raised for it."""
        decoder = _make_decoder(self, read_size=CHUNK_BYTES)  # type: ignore[arg-type]
        with collector_paused():
            value = _decode_next(decoder, name, index)
        if value is _END:
            if self.source.failure is not None:
                self.source.raise_failure()
            if self.refusal is not None:
                raise _oversize(name, index, self.refusal, self.limit)
            raise DataError(f"truncated final item ({len(self.data)} bytes of an incomplete CBOR item)",
                            input=name, record=index)
        self.end = self.pos
        if self.end > self.limit:
            raise _oversize(name, index, self.end, self.limit)
        return value

    def item(self) -> bytes:
        return bytes(self.data[:self.end])

    def after(self) -> bytes:
        """The bytes after the item in the window the buffered loop would have stopped at."""
        window = self.windows[bisect.bisect_left(self.windows, self.end)]
        self.source.pushed = bytes(self.data[window:]) + self.source.pushed
        return bytes(self.data[self.end:window])

    def _grow(self) -> bool:
        if self.eof or self.refusal is not None:
            return False
        needed = declared_size(self.data)
        if needed is not None and needed > self.limit:
            self.refusal = needed
            return False
        if len(self.data) > self.limit:
            self.refusal = len(self.data)
            return False
        try:
            more = self.source.read(max(CHUNK_BYTES, len(self.data)))
        except BaseException as exc:  # the decoder would bury it in a decode error
            self.source.failure = exc
            return False
        if not more:
            self.eof = True
            return False
        self.data += more
        self.windows.append(len(self.data))
        return True

    # The file interface the decoder uses.
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self.pos, len(self.data))[whence]
        self.pos = base + offset
        return self.pos

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = len(self.data) - self.pos
        while self.pos + n > len(self.data) and self._grow():
            pass
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += len(out)
        return out


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


# Headers declared_size reads at most: a huge length declared near the start of an item is
# still refused before its body is read, while a large item of many small parts costs a
# bounded walk per read instead of a walk over everything read so far.
DECLARED_SIZE_HEADERS = 4096


def declared_size(data: bytes) -> int | None:
    """Lower bound on the size of the first item from its declared lengths, or None.

    Walks only the headers present in ``data``, at most DECLARED_SIZE_HEADERS of them;
    used to refuse an item whose declared lengths exceed the record limit before reading
    its body.
    """
    total = 0
    pos = 0
    pending = 1  # items still to account for at this level (flattened count)
    n = len(data)
    headers = 0
    while pending > 0 and pos < n and headers < DECLARED_SIZE_HEADERS:
        headers += 1
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

