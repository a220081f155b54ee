"""Writing records to a binary stream as a canonical CBOR sequence or JSON lines."""

from __future__ import annotations

from typing import BinaryIO

from pattools.io import cbor, jsonl

FORMATS = ("cbor", "jsonl")


class RecordWriter:
    """Encodes records in one framing; the caller owns (and flushes/closes) the stream."""

    def __init__(self, stream: BinaryIO, fmt: str = "cbor") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.stream = stream
        self.format = fmt
        self._encode = cbor.encode if fmt == "cbor" else jsonl.encode_line

    def encode(self, record: dict) -> bytes:
        return self._encode(record)

    def write(self, record: dict) -> None:
        self.stream.write(self._encode(record))

    def write_encoded(self, data: bytes) -> None:
        """Write bytes already encoded in this writer's framing (pass-through)."""
        self.stream.write(data)
