"""PAT_SUMMARY: records per kind, per-seed sequences and pooled TokenAtlas figures."""

from __future__ import annotations

import numpy as np


class Summarizer:
    """Accumulates a summary over a record stream in O(seeds) memory."""

    def __init__(self, *, with_sequences: bool) -> None:
        self.with_sequences = with_sequences
        self.kinds: dict[str, int] = {}
        self.records = 0
        self.sequences: dict[int, dict] = {}
        self._atlas = None

    def add(self, record: dict) -> None:
        self.records += 1
        kind = str(record.get("kind"))
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if not self.with_sequences or kind != "PAT_FRAME":
            return
        seed = record["seed"]
        frame = record["frame"]
        sim = record["sim"]
        tokens = record["tokens"]
        seq = self.sequences.get(seed)
        if seq is None:
            seq = {"seed": seed, "frames": 0, "first": frame, "last": frame, "W": sim["W"], "H": sim["H"],
                   "scale": sim["scale"], "tokensPerFrame": len(tokens)}
            self.sequences[seed] = seq
        seq["frames"] += 1
        seq["first"] = min(seq["first"], frame)
        seq["last"] = max(seq["last"], frame)
        codes = [token["code"]["rvq"] for token in tokens if "code" in token]
        if codes:
            if self._atlas is None:
                from pattools.tokens.atlas import Atlas

                self._atlas = Atlas()
            self._atlas.add(np.asarray(codes, dtype=np.int64))

    def record(self) -> dict:
        summary: dict = {"kind": "PAT_SUMMARY", "version": 1, "records": self.records,
                         "kinds": dict(sorted(self.kinds.items()))}
        if self.with_sequences:
            summary["sequences"] = [self.sequences[seed] for seed in sorted(self.sequences)]
            if self._atlas is not None:
                summary["atlas"] = self._atlas.figures()
        return summary
