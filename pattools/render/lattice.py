"""The lattice behind the frames: each sequence re-run from its ``sim`` block by the replay
driver (pattools.replay.driver, exactly as pat-replay runs it), with the phase and energy
fields of the selected frames taken from its state.

Frames without an edit replay unmodulated, so the fields are those of the export; frames
with an ``edit`` block (pat-apply's output), and frames that edit packages given here
target, steer the lattice as pat-replay steers it. The tokens drawn beside the fields are
the frame's own tokens, with those edit packages applied as pat-apply applies them.

A frame that is itself a replay of an edit (its ``replay`` block names an edit) does not
carry what steered it, so it is refused: render the frames that replay read instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from pattools.errors import DataError
from pattools.io import Record
from pattools.tokens.frame import TokenFrame

# The replay's output selection starts beyond every frame: it steps the lattice (up to the
# last selected frame) but builds no replayed tokens, which are not drawn.
_NO_OUTPUT = (1 << 62, None)


@dataclass
class FieldFrame:
    """One frame's fields (H × W float32 copies) and tokens, with what labels it."""

    seed: int
    frame: int
    sim: dict
    phases: np.ndarray
    energy: np.ndarray
    tokens: TokenFrame
    edit_id: str | None  # the edit(s) that steered this frame's steps
    after_edit: str | None  # the latest edit that steered an earlier frame of the sequence

    @property
    def W(self) -> int:
        return int(self.sim["W"])

    @property
    def H(self) -> int:
        return int(self.sim["H"])

    @property
    def t(self) -> float:
        return (self.frame + 1) * int(self.sim["stepsPerFrame"]) * float(self.sim["dt"])


@dataclass(frozen=True)
class Selection:
    """Which frames to draw: half-open ranges, or (None) the last frame of each sequence."""

    ranges: tuple[tuple[int | None, int | None], ...] | None = None

    def wants(self, frame: int) -> bool:
        if self.ranges is None:
            return True  # a candidate: the last one is kept
        return any((a is None or frame >= a) and (b is None or frame < b) for a, b in self.ranges)

    def stop(self) -> int | None:
        """The frame after the last one any range can select (None: no end)."""
        if self.ranges is None or any(b is None for _, b in self.ranges):
            return None
        return max(b for _, b in self.ranges)


def _check_replay_block(value: dict) -> None:
    block = value.get("replay")
    if not isinstance(block, dict):
        return
    if block.get("editId") is not None or block.get("decoder", "delta") != "delta":
        what = f"edit {block.get('editId')}" if block.get("editId") is not None else f"decoder {block.get('decoder')}"
        raise DataError(f"this frame is a replay steered by {what}, which its record does not carry; render the "
                        "frames that replay read (pat-apply's output, or the export with --edit)", path="replay")


def _edit_ids(value: dict, edits: list) -> str | None:
    """The ids of the edits that steer this frame's steps: its edit block's, then the packages'."""
    ids = []
    block = value.get("edit")
    if isinstance(block, dict) and block.get("applied"):
        ids.append(str(block.get("id")))
    for edit in edits:
        if edit.package.seed == value.get("seed") and value.get("frame") in edit.frames:
            ids.append(edit.package.id)
    return "+".join(ids) if ids else None


class FieldReader:
    """Runs the replay over a frame stream and yields the selected frames' FieldFrames."""

    def __init__(self, selection: Selection, *, edits: list, lenient: bool = False, validate: bool = True,
                 kernel: str = "fast") -> None:
        from pattools.edited_replay import EditedReplay
        from pattools.replay.driver import ReplayOptions

        self.selection = selection
        self.edits = edits
        self.validate = validate
        self.options = ReplayOptions(frames=(_NO_OUTPUT[0], selection.stop()), kernel=kernel, validate=validate)
        self.replayer = EditedReplay(self.options, edits, lenient=lenient)

    def frames(self, records: Iterable[Record]) -> Iterator[FieldFrame]:
        """FieldFrames of the selected frames, in input order (by default the last of each
        sequence, known when the next sequence starts or the input ends)."""
        pending: tuple | None = None  # the last frame seen of the current sequence (default selection)
        last_edit: str | None = None
        for record in records:
            value = record.value
            try:
                if value.get("kind") == "PAT_FRAME":
                    _check_replay_block(value)
                self.replayer.feed(value, record.tokens)
            except DataError as err:
                raise err.located(input=record.input, record=record.index)
            if value["frame"] == 0:
                last_edit = None
                if pending is not None:
                    yield self._field_frame(*pending)
                    pending = None
            edit_id = _edit_ids(value, self.edits)
            if self.selection.wants(value["frame"]):
                state = self.replayer.current.state
                fields = (state.phases.reshape(state.H, state.W).copy(), state.energy.reshape(state.H, state.W).copy())
                pending = (value, record, self.replayer.edited_tokens, fields, edit_id, last_edit)
                if self.selection.ranges is not None:
                    yield self._field_frame(*pending)
                    pending = None
            last_edit = edit_id or last_edit
        if pending is not None:
            yield self._field_frame(*pending)
        self.replayer.finish()

    def _field_frame(self, value: dict, record: Record, edited: TokenFrame | None, fields: tuple,
                     edit_id: str | None, after: str | None) -> FieldFrame:
        """``edited``: the frame's tokens as the edit packages left them (None: not edited)."""
        try:
            tokens = edited if edited is not None else self._tokens(record)
        except DataError as err:
            raise err.located(input=record.input, record=record.index)
        return FieldFrame(value["seed"], value["frame"], value["sim"], fields[0], fields[1], tokens, edit_id, after)

    @staticmethod
    def _tokens(record: Record) -> TokenFrame:
        """The frame's tokens as checked columns."""
        if record.tokens is None:
            raise DataError("missing required field", path="tokens")
        return record.tokens.frame()
