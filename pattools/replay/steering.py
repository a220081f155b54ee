"""What steers one replayed frame: the edits on its input frame (``FrameEdit``).

A frame's edit reaches the replay as its ``edit`` block (written by pat-apply, read here
into `Deltas`) or, when edit packages are applied in the same process, straight from
that application (pattools.edited_replay); both give the same FrameEdit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.errors import DataError, expected_found
from pattools.tokens.deltas import Deltas
from pattools.tokens.frame import TokenFrame


@dataclass
class FrameEdit:
    """What edits did to one input frame: edited tokens, every effective delta, ids, weights."""

    tokens: TokenFrame | None  # None: not read (no decoder needs it); the layout only for delta/live
    applied: Deltas | None  # None: no delta at all
    edit_id: str | None
    weights: dict[str, float] | None  # head-hint weight by patchId (None: all 1)
    deltas: Deltas | None = None  # applied.per_token(tokens), when known already


def frame_edit(tokens: TokenFrame | None, applied: Deltas, edit_id: str, heads: list | None) -> FrameEdit:
    """A FrameEdit from an edit block's parts: every effective delta, the id, the dA heads hint
    (whose mean weight scales the drive of every patch the block touches)."""
    weights = None
    if heads is not None and len(applied):
        weight = _head_weight(heads)
        weights = {pid: weight for pid in applied.patch_ids}
    return FrameEdit(tokens, applied if len(applied) else None, edit_id, weights)


def read_frame_edit(record: dict, decoder: str, columns: TokenFrame | None = None) -> FrameEdit:
    """Tokens, effective deltas, edit id and head-hint weights of one (edited) input frame."""
    block = record.get("edit")
    if block is None and decoder != "tokens":
        return FrameEdit(None, None, None, None)
    if columns is not None:
        tokens = columns
    elif decoder == "tokens":
        try:
            tokens = TokenFrame.from_tokens(record["tokens"])
        except ValueError as exc:
            raise DataError(str(exc), path="tokens") from None
    else:
        tokens = token_layout(record["tokens"])
    if block is None:
        return FrameEdit(tokens, None, None, None)
    applied = Deltas.from_dpats(block["applied"], prefix="edit.applied")
    return frame_edit(tokens, applied, block["id"], block.get("dA", {}).get("heads"))


def token_layout(tokens: list) -> TokenFrame:
    """The token layout only (patch ids, code width): all the delta decoder reads of the tokens."""
    pids: list[str] = []
    dims = None
    for i, token in enumerate(tokens):
        try:
            pid = token["hdr"]["patchId"]
        except (TypeError, KeyError):
            raise DataError("expected a token with hdr.patchId", path=f"tokens[{i}].hdr.patchId") from None
        if not isinstance(pid, str):
            raise DataError(expected_found("string", pid), path=f"tokens[{i}].hdr.patchId")
        pids.append(pid)
        if dims is None and isinstance(token.get("code"), dict) and isinstance(token["code"].get("rvq"), list):
            dims = len(token["code"]["rvq"])
    frame = TokenFrame.empty(len(pids), code_dims=dims or 0)
    frame.patch_ids = pids
    if dims is None:
        frame.rvq = None
    return frame


def weight_column(patch_ids: list[str], weights: dict[str, float] | None) -> np.ndarray | None:
    if weights is None:
        return None
    return np.array([weights.get(pid, 1.0) for pid in patch_ids], dtype=np.float64)


def _head_weight(heads: list) -> float:
    """One patch's amplitude factor from a dA hint: the mean of its heads' weights (1 if none)."""
    weights = [float(h.get("weight", 1.0)) for h in heads]
    return sum(weights) / len(weights) if weights else 1.0
