"""Group a PAT_FRAME record stream into sequences (one seed each), as columnar frames.

A stream may hold several sequences one after another; frames of one sequence come in
increasing frame order and share one ``sim`` block (docs/design.md §2). Interleaving seeds,
a frame out of order, or a ``sim`` that changes inside a sequence is a data error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pattools.errors import DataError, expected_found
from pattools.io import Record
from pattools.tokens.frame import TokenFrame


@dataclass
class Sequence:
    """The frames of one seed: indices, columnar tokens and optional per-patch defects."""

    seed: int
    sim: dict
    input: str
    frames: list[int] = field(default_factory=list)
    tokens: list[TokenFrame] = field(default_factory=list)
    patch_defects: list[list | None] = field(default_factory=list)
    edits: list[dict | None] = field(default_factory=list)  # the frames' ``edit`` blocks
    replays: list[dict | None] = field(default_factory=list)  # the frames' ``replay`` blocks
    sources: list[tuple[str, int]] = field(default_factory=list)  # (input, record index) of each frame
    records: list[tuple] = field(default_factory=list)  # (envelope, input, index, tokens) if kept

    def frame(self, index: int) -> int | None:
        """Position of frame ``index`` in this sequence, or None."""
        try:
            return self.frames.index(index)
        except ValueError:
            return None


def read_sequences(records: Iterable[Record], keep=None, keep_records: bool = False) -> Iterator[Sequence]:
    """Sequences of PAT_FRAME records; ``keep(frame)`` (default all) selects the frames held,
    ``keep_records`` also holds the records themselves (for replaying them)."""
    current: Sequence | None = None
    seen: set[int] = set()
    last = -1
    for record in records:
        value = record.value
        if value.get("kind") != "PAT_FRAME":
            raise DataError(expected_found('"PAT_FRAME"', value.get("kind")), input=record.input,
                            record=record.index, path="kind")
        seed, frame, sim = value["seed"], value["frame"], value["sim"]
        if current is None or seed != current.seed:
            if seed in seen:
                raise DataError(f"frames of seed {seed} interleaved with another seed "
                                "(expected each sequence whole, one after another)",
                                input=record.input, record=record.index, path="seed")
            if current is not None:
                yield current
            seen.add(seed)
            current = Sequence(seed, sim, record.input)
        else:
            if frame <= last:
                raise DataError(expected_found(f"frame > {last} (increasing order)", frame),
                                input=record.input, record=record.index, path="frame")
            if sim != current.sim:
                raise DataError("sim differs from the sequence's first frame", input=record.input,
                                record=record.index, path="sim")
        last = frame
        if keep is not None and not keep(frame):
            continue
        if record.tokens is None:
            raise DataError("expected a token list, got nothing (required field missing)",
                            input=record.input, record=record.index, path="tokens")
        tokens = record.tokens.frame()
        current.frames.append(frame)
        current.tokens.append(tokens)
        metrics = value.get("metrics")
        current.patch_defects.append(None if metrics is None else metrics.get("patchDefects"))
        current.edits.append(value.get("edit"))
        current.replays.append(value.get("replay"))
        current.sources.append((record.input, record.index))
        if keep_records:
            current.records.append((value, record.input, record.index, record.tokens))
    if current is not None:
        yield current
