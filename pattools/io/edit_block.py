"""Canonical CBOR of a frame's ``edit`` block straight from effective deltas.

Why: pat-apply writes an edit block on every frame it changes, one DPat map per touched
token, and encoding those small maps canonically costs more than everything else it does
to a frame. Edits repeat: the same patch gets the same effective delta frame after frame
unless a clamp or wrap changes it. The encoder keeps each DPat's bytes under the exact
bytes of its row (patch id, named masks and values, so -0.0 and 0.0 stay apart), builds and
encodes a map only for rows it has not seen, and splices the block together. The bytes
are those of ``cbor.encode`` of the block as maps (tests/test_apply.py).
"""

from __future__ import annotations

from pattools.io import cbor
from pattools.io.token_cbor import encode_array, encode_map_with
from pattools.tokens.deltas import Deltas

MEMO_LIMIT = 1 << 16  # DPat encodings kept; the memo starts over when full


def edit_block(edit_id: str, applied: list[Deltas], heads: list | None) -> dict:
    """The block as maps: ``{id, applied[, dA]}``."""
    block: dict = {"id": edit_id, "applied": [dp for deltas in applied for dp in deltas.to_dpats()]}
    if heads is not None:
        block["dA"] = {"heads": heads}
    return block


class EditBlockEncoder:
    """Encodes edit blocks of frames without an earlier edit block."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, bytes], bytes] = {}

    def dpats(self, deltas: Deltas) -> list[bytes]:
        """The encoded DPat map of each row, in order."""
        out = []
        memo = self._memo
        for i, key in enumerate(zip(deltas.patch_ids, deltas.row_bytes())):
            data = memo.get(key)
            if data is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                data = memo[key] = cbor.encode(deltas.slice(i, i + 1).to_dpats()[0])
            out.append(data)
        return out

    def block(self, edit_id: str, applied: list[Deltas], heads: list | None) -> bytes:
        """``cbor.encode(edit_block(edit_id, applied, heads))``."""
        fields: dict = {"id": edit_id}
        if heads is not None:
            fields["dA"] = {"heads": heads}
        parts = [data for deltas in applied for data in self.dpats(deltas)]
        return encode_map_with(fields, {"applied": encode_array(parts)})
