"""Applying edits to many frames at once by stacking their token columns.

Why: a target's DPats touch a few tokens, so applying one target to one frame is a few
dozen numpy calls on tiny arrays, and their fixed cost dominates when every frame of a
stream is edited. Every §2 rule acts per token, so the located DPats of many frames can
be applied to the frames' columns stacked into one TokenFrame and the result cut back
into frames: the same values as frame by frame, for a fraction of the calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pattools.edit.apply import ApplyResult, apply_located
from pattools.tokens.deltas import Deltas
from pattools.tokens.frame import TokenFrame


@dataclass
class Located:
    """One frame's columns and one target's DPats located in them (see apply.located)."""

    tokens: TokenFrame
    rows: np.ndarray
    batch: Deltas


def layout_key(tokens: TokenFrame) -> tuple | None:
    """Frames with equal keys stack (code width, reconMSE or not; per-token code lengths
    are stacked); None: this frame does not (heads or code stages)."""
    if tokens.heads is not None or tokens.code_stage is not None:
        return None
    return (None if tokens.rvq is None else tokens.rvq.shape[1], tokens.recon_mse is not None)


def apply_stacked(items: list[Located], *, recode: bool = False) -> list[ApplyResult]:
    """``apply_located`` for each item (frames of one layout_key), computed in one pass."""
    if len(items) == 1:
        item = items[0]
        return [apply_located(item.tokens, item.rows, item.batch, recode=recode)]
    counts = [len(item.tokens) for item in items]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    stacked = _stack_frames([item.tokens for item in items])
    rows = np.concatenate([item.rows + offsets[i] for i, item in enumerate(items)])
    result = apply_located(stacked, rows, Deltas.concat([item.batch for item in items]), recode=recode)
    ends = np.searchsorted(result.rows, offsets[1:], side="left").tolist()
    starts = [0] + ends[:-1]
    out = []
    for i, item in enumerate(items):
        a, b = int(offsets[i]), int(offsets[i + 1])
        lo, hi = starts[i], ends[i]
        effective = None if result.effective is None or hi == lo else result.effective.slice(lo, hi)
        out.append(ApplyResult(_slice_frame(result.tokens, a, b, item.tokens), effective,
                               result.rows[lo:hi] - a, 0, 0))
    return out


def _stack_frames(frames: list[TokenFrame]) -> TokenFrame:
    first = frames[0]
    return TokenFrame(
        patch_ids=[pid for frame in frames for pid in frame.patch_ids],
        t=np.concatenate([f.t for f in frames]),
        scale=np.concatenate([f.scale for f in frames]),
        geom=np.concatenate([f.geom for f in frames]),
        stats=np.concatenate([f.stats for f in frames]),
        topo=np.concatenate([f.topo for f in frames]),
        rvq=None if first.rvq is None else np.concatenate([f.rvq for f in frames]),
        recon_mse=None if first.recon_mse is None else np.concatenate([f.recon_mse for f in frames]),
        rvq_len=_stacked_lengths(frames),
    )


def _stacked_lengths(frames: list[TokenFrame]) -> np.ndarray | None:
    """The frames' per-token code lengths one after another (None when no frame has any)."""
    if all(f.rvq_len is None for f in frames):
        return None
    return np.concatenate([f.code_lengths() for f in frames])


def _slice_frame(stacked: TokenFrame, a: int, b: int, frame: TokenFrame) -> TokenFrame:
    """The rows of ``frame`` (as edited) from the stacked result."""
    return TokenFrame(
        patch_ids=frame.patch_ids,
        t=stacked.t[a:b],
        scale=stacked.scale[a:b],
        geom=stacked.geom[a:b],
        stats=stacked.stats[a:b],
        topo=stacked.topo[a:b],
        rvq=None if stacked.rvq is None else stacked.rvq[a:b],
        recon_mse=None if stacked.recon_mse is None else stacked.recon_mse[a:b],
        rvq_len=None if frame.rvq_len is None else stacked.rvq_len[a:b],
    )
