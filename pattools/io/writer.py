"""Writing records to a binary stream as a canonical CBOR sequence or JSON lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from pattools.io import cbor, jsonl

if TYPE_CHECKING:
    from pattools.io.records import Record
    from pattools.tokens.deltas import Deltas
    from pattools.tokens.frame import TokenFrame

FORMATS = ("cbor", "jsonl")


class RecordWriter:
    """Encodes records in one framing; the caller owns (and flushes/closes) the stream.
    Without a stream it only encodes (``encode``, ``encode_frame``)."""

    def __init__(self, stream: BinaryIO | None = None, fmt: str = "cbor") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.stream = stream
        self.format = fmt
        self._encode = cbor.encode if fmt == "cbor" else jsonl.encode_line
        self._frames = None  # FrameEncoder, made on the first frame written from columns
        self._blocks = None  # EditBlockEncoder, made on the first edited frame

    def encode(self, record: dict) -> bytes:
        return self._encode(record)

    def write(self, record: dict) -> None:
        self.stream.write(self._encode(record))

    def write_encoded(self, data: bytes) -> None:
        """Write bytes already encoded in this writer's framing (pass-through)."""
        self.stream.write(data)

    def write_record(self, record: Record) -> None:
        """An unchanged record as read: its own bytes when it came as CBOR and goes out as
        CBOR (a JSON line is written again, so its text is the record's one JSON text
        whatever wrote it)."""
        if record._raw is not None and record._framing == self.format == "cbor":
            self.stream.write(record._raw)
        else:
            self.write(record.document())

    def encode_frame(self, envelope: dict, tokens: TokenFrame, encoded: dict[str, bytes] | None = None) -> bytes:
        """A PAT_FRAME record given as its envelope (every entry but "tokens") and token
        columns; ``encoded``: bytes of some envelope values, already encoded (CBOR only)."""
        if self.format == "jsonl":
            from pattools.io.token_cbor import record_with_tokens

            return jsonl.encode_line(record_with_tokens(envelope, tokens.to_tokens()))
        if self._frames is None:
            from pattools.io.frame_encoder import FrameEncoder

            self._frames = FrameEncoder()
        return self._frames.encode(envelope, tokens, encoded)

    def write_frame(self, envelope: dict, tokens: TokenFrame, encoded: dict[str, bytes] | None = None) -> None:
        """Write ``encode_frame(envelope, tokens, encoded)``."""
        self.stream.write(self.encode_frame(envelope, tokens, encoded))

    def write_edited_frame(self, envelope: dict, tokens: TokenFrame, edit_id: str, applied: list[Deltas],
                           heads: list | None) -> None:
        """A frame that had no edit block, written with the one its edits give: ``edit_id``,
        the effective deltas ``applied`` (in order) and the latest head hints."""
        from pattools.io.edit_block import EditBlockEncoder, edit_block

        if self.format == "jsonl":
            self.write_frame({**envelope, "edit": edit_block(edit_id, applied, heads)}, tokens)
            return
        if self._blocks is None:
            self._blocks = EditBlockEncoder()
        self.write_frame({**envelope, "edit": None}, tokens, {"edit": self._blocks.block(edit_id, applied, heads)})
