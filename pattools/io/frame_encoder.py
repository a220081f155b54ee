"""Canonical CBOR of PAT_FRAME records built from an envelope and token columns, with the
entries the frames of a sequence share (kind, version, seed, sim) encoded once.

Why: commands that write frame after frame of one sequence (pat-apply's edited frames,
pat-replay's output) would otherwise re-encode and re-sort the same envelope entries for
every frame. The bytes are those of ``token_cbor.encode_frame_record``.
"""

from __future__ import annotations

from pattools.io import cbor
from pattools.io.token_cbor import MapTemplate, encode_tokens
from pattools.schema import same_value
from pattools.tokens.frame import TokenFrame

SHARED_KEYS = ("kind", "version", "seed", "sim")
# Envelope entries that repeat over runs of frames (a replay's block per edit id): their
# bytes are kept and reused while the value stays the same.
REPEATED_KEYS = ("replay",)


class FrameEncoder:
    """Encodes PAT_FRAME records of any envelope; templates are kept per key set and
    rebuilt when the shared entries change (a new sequence), and the bytes of the
    REPEATED_KEYS entries are kept per value."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, ...], tuple[dict, MapTemplate]] = {}
        self._repeated: dict[str, list[tuple[object, bytes]]] = {key: [] for key in REPEATED_KEYS}

    def encode(self, envelope: dict, tokens: TokenFrame, encoded: dict[str, bytes] | None = None) -> bytes:
        """``envelope`` (without "tokens") plus ``tokens``; ``encoded`` may give the bytes of
        some envelope values already encoded (the caller's own memo)."""
        shared = {key: envelope[key] for key in SHARED_KEYS if key in envelope}
        spliced = tuple(key for key in envelope if key not in shared) + ("tokens",)
        known = self._templates.get(spliced)
        if known is None or not same_value(known[0], shared):
            known = self._templates[spliced] = (shared, MapTemplate(shared, spliced))
        values = {"tokens": encode_tokens(tokens)}
        for key in spliced[:-1]:
            if encoded is not None and key in encoded:
                values[key] = encoded[key]
            elif key in self._repeated:
                values[key] = self._repeated_bytes(key, envelope[key])
            else:
                values[key] = cbor.encode(envelope[key])
        return known[1].encode(values)

    def _repeated_bytes(self, key: str, value: object) -> bytes:
        known = self._repeated[key]
        for seen, data in known:
            if same_value(seen, value):
                return data
        if len(known) >= 64:
            known.clear()
        data = cbor.encode(value)
        known.append((value, data))
        return data
