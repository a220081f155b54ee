"""What steers one replayed frame: the edits on its input frame (``FrameEdit``).

A frame's edit reaches the replay as its ``edit`` block (written by pat-apply, read here
into `Deltas`) or, when edit packages are applied in the same process, straight from
that application (pattools.edited_replay); both give the same FrameEdit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # read where a frame has an edit block: a replay without edits starts without it
    from pattools.tokens.deltas import Deltas
    from pattools.tokens.frame import TokenFrame


@dataclass
class FrameEdit:
    """What edits did to one input frame: edited tokens, every effective delta, ids, weights."""

    tokens: TokenFrame | None  # the input frame's (edited) tokens; None: not read (no decoder needs them)
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


def read_frame_edit(record: dict, tokens: TokenFrame | None) -> FrameEdit:
    """Tokens, effective deltas, edit id and head-hint weights of one (edited) input frame;
    ``tokens``: its columns where the replay reads them (None: not read)."""
    block = record.get("edit")
    if block is None:
        return FrameEdit(tokens, None, None, None)
    from pattools.tokens.deltas import Deltas

    applied = Deltas.from_dpats(block["applied"], prefix="edit.applied")
    return frame_edit(tokens, applied, block["id"], block.get("dA", {}).get("heads"))


def weight_column(patch_ids: list[str], weights: dict[str, float] | None) -> np.ndarray | None:
    if weights is None:
        return None
    return np.array([weights.get(pid, 1.0) for pid in patch_ids], dtype=np.float64)


def _head_weight(heads: list) -> float:
    """One patch's amplitude factor from a dA hint: the mean of its heads' weights (1 if none)."""
    weights = [float(h.get("weight", 1.0)) for h in heads]
    return sum(weights) / len(weights) if weights else 1.0
