"""Reading large CBOR streams with each frame's token array left encoded until asked for.

Why: a replay needs every frame's envelope but reads tokens only of edited frames (or
with the tokens decoder); decoding all token maps of a fine-scale stream costs more than
the replay's other input work together. Here each item's end and the span of its
top-level "tokens" value are found by a head-only scan (pattools.kernels.cbor_scan); the
envelope, with an empty array in place of the tokens, is decoded strictly as usual, and
the token bytes travel in the record's FrameTokens (pattools.io.frame_tokens), which
``decode_tokens`` them strictly on demand (or reads them as columns without maps).

Anything the scan does not accept (a tag, malformed or truncated data, nesting too deep,
a duplicate "tokens") hands the rest of the stream to the strict reader, so errors read
exactly as they do everywhere else. Token bytes are checked for well-formedness and tags
by the scan; their text encoding, map keys and numbers only when decoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import cbor2
import numpy as np

from pattools.errors import DataError
from pattools.io import cbor

TOKENS_KEY = b"\x66tokens"  # the canonical encoding of the text "tokens"
_EMPTY_ARRAY = b"\x80"
# the strict reader's decoder options (pattools.io.cbor), for decoding one item at once
_STRICT = dict(tag_hook=cbor._reject_unknown_tag, semantic_decoders=cbor._SEMANTIC_REJECTS,
               max_depth=cbor.MAX_DEPTH, allow_duplicate_keys=False, strict_hashable_types=True,
               allow_indefinite=True)


def decode_tokens(data: bytes) -> list:
    """A frame's token array from its bytes, decoded strictly; a DataError's path starts at ``tokens``."""
    value = _decode(data, None, None)
    if cbor.may_hold_nonfinite(data):
        check_finite_tokens(value)
    return value


def check_finite_tokens(value: object) -> None:
    """A DataError naming the first NaN or ±Inf in a token array (its path under ``tokens``)."""
    from pattools import schema

    bad = schema.find_nonfinite(value)
    if bad is not None:
        path = "tokens" + (bad[0] if bad[0].startswith("[") else f".{bad[0]}" if bad[0] else "")
        raise DataError(f"expected a finite number, got {bad[1]}", path=path)


def iter_items_lazy(stream: BinaryIO, name: str, *, max_record_bytes: int,
                    prefix: bytes = b"") -> Iterator[tuple[object, bytes, bytes, bytes | None]]:
    """``(value, raw, screen, tokens)`` per item of a CBOR sequence: ``value`` decoded with
    "tokens" (when the item is a map that has it) as an empty array, the item's bytes,
    the bytes to screen for NaN/Inf (the item without its tokens), and the token array's bytes."""
    from pattools.kernels.cbor_scan import SCAN_OK, SCAN_MORE, scan_item

    key = np.frombuffer(TOKENS_KEY, dtype=np.uint8)
    buffer = prefix
    view = np.frombuffer(buffer, dtype=np.uint8)
    pos = 0
    index = 0
    eof = False
    while True:
        if pos >= len(buffer):
            if eof:
                return
            buffer = stream.read(cbor.CHUNK_BYTES)
            if not buffer:
                return
            view = np.frombuffer(buffer, dtype=np.uint8)
            pos = 0
        status, end, value_start, value_end = scan_item(view, pos, key)
        if status == SCAN_MORE and not eof:
            rest = buffer[pos:]
            needed = cbor.declared_size(rest)
            if needed is not None and needed > max_record_bytes:
                raise cbor._oversize(name, index, needed, max_record_bytes)
            if len(rest) > max_record_bytes:
                raise cbor._oversize(name, index, len(rest), max_record_bytes)
            more = stream.read(max(cbor.CHUNK_BYTES, len(rest)))
            eof = not more
            buffer = rest + more
            view = np.frombuffer(buffer, dtype=np.uint8)
            pos = 0
            continue
        if status != SCAN_OK:  # the strict reader names the problem
            yield from _strict(stream, name, max_record_bytes, buffer[pos:], index)
            return
        if end - pos > max_record_bytes:
            raise cbor._oversize(name, index, end - pos, max_record_bytes)
        raw = buffer[pos:end]
        if value_start >= 0 and value_end >= 0:
            screen = buffer[pos:value_start] + _EMPTY_ARRAY + buffer[value_end:end]
            tokens = buffer[value_start:value_end]
        else:
            screen = raw
            tokens = None
        value = _decode(screen, name, index)
        yield value, raw, screen, tokens
        index += 1
        pos = end


def _decode(data: bytes, name: str | None, index: int | None) -> object:
    """One item, strictly; errors name ``name`` and ``index`` (or are left to the caller)."""
    try:
        return cbor.absent_undefined_heads(cbor2.loads(data, **_STRICT), data)
    except Exception:  # noqa: BLE001 - the full reader below names the problem
        pass
    try:
        return cbor.decode_one(data)
    except DataError as error:
        error.input, error.record = name, index
        if name is None:
            error.path = error.path or "tokens"
        raise


def _strict(stream: BinaryIO, name: str, max_record_bytes: int, rest: bytes,
            first_index: int) -> Iterator[tuple[object, bytes, bytes, None]]:
    """The strict reader from item ``first_index`` on (record indices counted on)."""
    items = cbor.iter_items(stream, name, max_record_bytes=max_record_bytes, prefix=rest)
    try:
        for value, raw in items:
            yield value, raw, raw, None
    except DataError as error:
        if error.record is not None:
            error.record += first_index
        raise


def warm_codec() -> None:
    """Compile (or load from numba's cache) the CBOR codec's token kernels: the encoder,
    the scanner and the token parser."""
    import io

    from pattools.io.token_cbor import encode_frame_record
    from pattools.kernels import token_cbor  # noqa: F401 - loaded first, so the encoder uses it
    from pattools.tokens.frame import TokenFrame

    tokens = TokenFrame.empty(2)
    tokens.patch_ids = ["0,0,8", "8,0,8"]
    tokens.scale[:] = 8
    data = encode_frame_record({"kind": "PAT_FRAME", "version": 1}, tokens)
    from pattools.io.token_columns import columns_from_bytes

    for _value, _raw, _screen, encoded in iter_items_lazy(io.BytesIO(data), "warm-up", max_record_bytes=len(data)):
        columns_from_bytes(encoded)
