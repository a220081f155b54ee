"""Canonical CBOR of a frame's ``edit`` block straight from effective deltas.

Why: pat-apply writes an edit block on every frame it changes, one DPat map per touched
token, and encoding those small maps canonically costs more than everything else it does
to a frame. Edits repeat: the same patch gets the same effective delta frame after frame
unless a clamp or wrap changes it. The encoder keeps each DPat's bytes under the exact
bytes of its row (patch id, named masks and values, so -0.0 and 0.0 stay apart), builds and
encodes a map only for rows it has not seen, and splices the block together. The bytes
are those of ``cbor.encode(edited_envelope(...)["edit"])`` (tests/test_apply.py).
"""

from __future__ import annotations

from pattools.edit.apply import Effective
from pattools.io import cbor
from pattools.io.token_cbor import encode_array, encode_map_with

MEMO_LIMIT = 1 << 16  # DPat encodings kept; the memo starts over when full


class EditBlockEncoder:
    """Encodes edit blocks of frames without an earlier edit block (see edited_envelope)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, bytes], bytes] = {}

    def dpats(self, effective: Effective) -> list[bytes]:
        """The encoded DPat map of each touched token, in token order."""
        out = []
        memo = self._memo
        for i, key in enumerate(zip(effective.patch_ids, effective.row_keys())):
            data = memo.get(key)
            if data is None:
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                data = memo[key] = cbor.encode(effective.slice(i, i + 1).dpats()[0])
            out.append(data)
        return out

    def block(self, changes: list) -> bytes:
        """The edit block after ``changes`` ((edit, target, ApplyResult) in order) on a frame
        that had none: ids joined with "+", every effective DPat, the latest head hints."""
        ids = []
        parts: list[bytes] = []
        heads = None
        for edit, target, result in changes:
            ids.append(edit.package.id)
            parts.extend(self.dpats(result.effective))
            heads = target.heads if target.heads is not None else heads
        fields: dict = {"id": "+".join(ids)}
        if heads is not None:
            fields["dA"] = {"heads": heads}
        return encode_map_with(fields, {"applied": encode_array(parts)})
