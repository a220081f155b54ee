"""`pat-replay --edit`: edit packages applied in process, then replayed.

Composes the one apply (pattools.edit.applier, exactly what pat-apply runs) with the
replay (pattools.replay.driver), so ``pat-apply --edit e | pat-replay`` and
``pat-replay --edit e`` see the same frames; the replay itself holds no edit machinery.
A frame an edit package may target is checked (its envelope, and its tokens read as
columns), edited, and handed to the replay with what the edits did (``FrameEdit``: the
edited tokens and every effective delta), which steers exactly as the edit block
pat-apply would have written. Frames of a window are edited together
(pattools.edit.stacked), as pat-apply does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pattools.errors import DataError
from pattools.replay.driver import ReplayedFrame, Replayer, ReplayOptions
from pattools.replay.steering import FrameEdit, frame_edit
from pattools.tokens.frame import TokenFrame

if TYPE_CHECKING:  # the edit machinery is imported where edits are given: a plain replay starts without it
    from pattools.tokens.deltas import Deltas
    from pattools.edit.applier import LoadedEdit
    from pattools.edit.bounds import Bounds
    from pattools.edit.dpat import EditPackage

WINDOW = 64  # input frames whose edits apply together (read ahead)


class FrameTokens(Protocol):
    """A frame's tokens as read (pattools.io's ``Record.tokens``): checked columns on demand."""

    def frame(self) -> TokenFrame: ...


@dataclass(frozen=True)
class EditOptions:
    """How edit packages apply (as pat-apply's --bounds, --clip and --lenient)."""

    bounds: Bounds = field(default_factory=lambda: _bounds().default())
    clip: bool = False
    lenient: bool = False


def _bounds() -> type[Bounds]:
    from pattools.edit.bounds import Bounds

    return Bounds


def load_edits(packages: Iterable[tuple[EditPackage, str | None, int | None]],
               options: EditOptions | None = None) -> list[LoadedEdit]:
    """Edit packages (with where they were read) checked against the options' bounds
    (pat-apply's defaults without options)."""
    packages = list(packages)
    if not packages:
        return []
    from pattools.edit.applier import load_edit

    options = options or EditOptions()
    return [load_edit(pkg, options.bounds, clip=options.clip, input=name, index=index)
            for pkg, name, index in packages]


def apply_unbounded(tokens: TokenFrame, deltas: Deltas) -> TokenFrame:
    """Effective deltas applied to tokens (the live decoder's ``apply_deltas``)."""
    from pattools.edit.apply import apply_target

    return apply_target(tokens, deltas, _bounds().unbounded()).tokens


class EditedReplay:
    """A Replayer whose input frames get the edit packages applied first."""

    def __init__(self, options: ReplayOptions, edits: list[LoadedEdit] | None = None, *,
                 lenient: bool = False) -> None:
        self.replayer = Replayer(options, apply_unbounded)
        self.edited_tokens: TokenFrame | None = None  # the last frame fed, as the edits left it (None: not edited)
        self.applier = None
        if edits:
            from pattools.edit.applier import EditApplier

            self.applier = EditApplier(edits, lenient=lenient)

    @property
    def current(self):
        return self.replayer.current

    def prepare(self, window: list[tuple]) -> dict[int, tuple]:
        """Apply the edit packages to the targeted frames of a window of input tuples
        (record, name, index, tokens) many frames at once (pattools.edit.stacked);
        {position in window: (columns, result)} for ``feed(..., prepared=...)``. A data
        error met here (a frame's envelope or tokens, or an edit) is left to ``feed``,
        which meets every error in input order: nothing is prepared then."""
        if self.applier is None:
            return {}
        targeted = [(position, record, encoded[0]) for position, (record, _name, _index, *encoded) in enumerate(window)
                    if encoded and encoded[0] is not None and self.applier.may_target(record)]
        if len(targeted) < 2:
            return {}
        try:
            items = [(record, self._checked_columns(record, tokens)) for _, record, tokens in targeted]
            results = self.applier.apply_frames(items)
        except DataError:
            return {}
        return {position: (columns, done) for (position, _, _), (_, columns), done in zip(targeted, items, results)}

    def feed(self, record: dict, tokens: FrameTokens | None = None, prepared: tuple | None = None) -> ReplayedFrame | None:
        """Replay one input frame: its envelope and its tokens (``Record.tokens``), read
        only where the replay or an edit reads them; ``prepared``: its (columns, edit
        result) from ``prepare``."""
        replayer = self.replayer
        self.edited_tokens = None
        if prepared is not None:
            columns, done = prepared
        elif self.applier is None or tokens is None or not self.applier.may_target(record):
            replayer.check(record, tokens is not None)
            columns = tokens.frame() if replayer.reads_tokens(record) else None
            out = replayer.feed_checked(record, None, columns)
            if self.applier is not None:
                self.applier.observe(record)  # seeds and sims seen, for unmatched()
            return out
        else:
            columns = self._checked_columns(record, tokens)
            done = self.applier.apply_frame(record, columns)
        if done is not None:
            self.edited_tokens = done[0]
        return replayer.feed_checked(record, None if done is None else _frame_edit_of(record, done), columns)

    def _checked_columns(self, record: dict, tokens: FrameTokens) -> TokenFrame:
        """A targeted frame checked as the replay checks frames (its envelope when
        validating; the fields it reads), and its tokens as columns."""
        self.replayer.check(record, True)
        return tokens.frame()

    def finish(self) -> None:
        """Raise the first problem with an edit that matched no input frame."""
        if self.applier is not None:
            problems = self.applier.unmatched()
            if problems:
                raise problems[0]


def _frame_edit_of(record: dict, done: tuple) -> FrameEdit:
    """The FrameEdit of edits applied on columns: (edited columns, changes)."""
    from pattools.tokens.deltas import Deltas

    tokens, changes = done
    block = record.get("edit")
    parts = [] if block is None else [Deltas.from_dpats(block["applied"], prefix="edit.applied")]
    ids = [] if block is None else [block["id"]]
    heads = None if block is None else block.get("dA", {}).get("heads")
    for edit, target, result in changes:
        parts.append(result.effective)
        ids.append(edit.package.id)
        heads = target.heads if target.heads is not None else heads
    edit = frame_edit(tokens, Deltas.concat(parts), "+".join(ids), heads)
    if block is None and edit.applied is not None:
        from pattools.edit.apply import delta_columns_of

        edit.deltas = delta_columns_of(tokens, [result for _, _, result in changes])
    return edit


def replay_frames(records: Iterable[tuple], options: ReplayOptions, edits: list[LoadedEdit] | None = None, *,
                  lenient: bool = False) -> Iterator[ReplayedFrame]:
    """Replayed frames of (record, input name, index[, encoded tokens]) tuples, in order."""
    replay = EditedReplay(options, edits, lenient=lenient)
    for window in _windows(records, WINDOW if replay.applier is not None else 1):
        prepared = replay.prepare(window)
        for position, (record, name, index, *encoded) in enumerate(window):
            try:
                out = replay.feed(record, *encoded, prepared=prepared.get(position))
            except DataError as err:
                raise err.located(input=name, record=index)
            if out is not None:
                yield out
    replay.finish()


def _windows(items: Iterable, size: int) -> Iterator[list]:
    window: list = []
    for item in items:
        window.append(item)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


def replay_pairs(records: Iterable[tuple], options: ReplayOptions, edits_a: list[LoadedEdit] | None = None,
                 edits_b: list[LoadedEdit] | None = None, *,
                 lenient: bool = False) -> Iterator[tuple[ReplayedFrame, ReplayedFrame]]:
    """Two independent replays of the same input, in lockstep (for --verify).

    Each replay has its own lattice and its own loaded edits; the input is read once.
    """
    first = EditedReplay(options, edits_a, lenient=lenient)
    second = EditedReplay(options, edits_b, lenient=lenient)
    for record, name, index, *encoded in records:
        try:
            a = first.feed(record, *encoded)
            b = second.feed(record, *encoded)
        except DataError as err:
            raise err.located(input=name, record=index)
        if (a is None) != (b is None):
            raise RuntimeError("replays disagree on which frames to write")
        if a is not None:
            yield a, b
    first.finish()
    second.finish()
