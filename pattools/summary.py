"""PAT_SUMMARY: records per kind, per-seed sequences and pooled TokenAtlas figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pattools.errors import DataError

if TYPE_CHECKING:
    from pattools.io import FrameTokens


class Summarizer:
    """Accumulates a summary over a record stream in O(seeds) memory."""

    def __init__(self, *, with_sequences: bool) -> None:
        self.with_sequences = with_sequences
        self.kinds: dict[str, int] = {}
        self.records = 0
        self.sequences: dict[int, dict] = {}
        self._atlas = None

    def add(self, envelope: dict, tokens: FrameTokens | None) -> None:
        """One record: its envelope (a PAT_FRAME's without its tokens) and a frame's tokens."""
        self.records += 1
        kind = str(envelope.get("kind"))
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if not self.with_sequences or kind != "PAT_FRAME":
            return
        seed, frame, sim = (_required(envelope, name) for name in ("seed", "frame", "sim"))
        frame_tokens = None if tokens is None else tokens.frame()
        seq = self.sequences.get(seed)
        if seq is None:
            seq = {"seed": seed, "frames": 0, "first": frame, "last": frame, "W": sim["W"], "H": sim["H"],
                   "scale": sim["scale"], "tokensPerFrame": 0 if frame_tokens is None else len(frame_tokens)}
            self.sequences[seed] = seq
        seq["frames"] += 1
        seq["first"] = min(seq["first"], frame)
        seq["last"] = max(seq["last"], frame)
        if frame_tokens is not None and frame_tokens.rvq is not None:
            if self._atlas is None:
                from pattools.tokens.atlas import AtlasByLength

                self._atlas = AtlasByLength()
            self._atlas.add_frame(frame_tokens)

    def record(self) -> dict:
        summary: dict = {"kind": "PAT_SUMMARY", "version": 1, "records": self.records,
                         "kinds": dict(sorted(self.kinds.items()))}
        if self.with_sequences:
            summary["sequences"] = [self.sequences[seed] for seed in sorted(self.sequences)]
            if self._atlas is not None and self._atlas.main() is not None:
                summary["atlas"] = self._atlas.main().figures()
                others = self._atlas.others()
                if others:
                    summary["atlas"]["otherLengths"] = {str(n): count for n, count in others.items()}
        return summary


def _required(envelope: dict, name: str) -> object:
    if name not in envelope:
        raise DataError("expected a value, got nothing (required field missing)", path=name)
    return envelope[name]
