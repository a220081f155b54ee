"""Applying a file of edit packages to a stream of frames (what `pat-apply` runs).

Each `PAT_EDIT` applies to the frames of its seed and sim (grid, scale, physics); the
frames it targets are edited in edit-file order, every other frame passes through. The
edits are held in memory, the frames stream, each as its envelope and token columns (the
one form of a frame past io; ``may_target`` tells a caller whose tokens it need not read).
At the end, `unmatched()` lists the edits whose seed, sim or target frames never appeared
in the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pattools.edit.apply import apply_located, edit_block, located
from pattools.edit.stacked import Located, apply_stacked, layout_key
from pattools.edit.bounds import Bounds
from pattools.edit.dpat import EditPackage, validated_package
from pattools.tokens.deltas import Deltas
from pattools.collector import collector_paused
from pattools.errors import DataError, expected_found
from pattools.tokens.frame import TokenFrame


# The types a seed or frame number can have (JSON may give an integral float); unvalidated
# input may hold anything there, which no edit names.
_KEYS = frozenset((int, float))


@dataclass
class FrameEdit:
    """What one edit does to one frame: its DPats (all targets of that frame, in order), bounded."""

    batch: Deltas
    clips: int  # deltas clipped to the bounds (with --clip)
    heads: list | None
    target_index: int  # the first target naming this frame, for messages


@dataclass
class LoadedEdit:
    package: EditPackage
    input: str | None
    index: int | None
    frames: dict[int, FrameEdit]
    seen_frames: set[int] = field(default_factory=set)
    matched: bool = False


def load_edit(package: EditPackage, bounds: Bounds, *, clip: bool, input: str | None = None,
              index: int | None = None) -> LoadedEdit:
    """Group an edit's targets by frame and bound their deltas now (an error comes before any output)."""
    frames: dict[int, FrameEdit] = {}
    try:
        bounded = package.bounded_batches(bounds, clip=clip)
    except DataError as error:
        raise error.located(input=input, record=index)
    for t, (target, (batch, clips)) in enumerate(zip(package.targets, bounded)):
        known = frames.get(target.frame)
        if known is None:
            frames[target.frame] = FrameEdit(batch, clips, target.heads, t)
        else:
            known.batch = Deltas.concat([known.batch, batch])
            known.clips += clips
            known.heads = target.heads if target.heads is not None else known.heads
    return LoadedEdit(package, input, index, frames)


def edit_packages(records: Iterable, *, validate: bool = True) -> Iterator[tuple[EditPackage, str, int]]:
    """Each record of an edit file (as read: ``value``, ``input``, ``index``) as a checked
    EditPackage, with its input name and index."""
    for record in records:
        value = record.value
        if value.get("kind") != "PAT_EDIT":
            raise DataError(expected_found('"PAT_EDIT"', value.get("kind")), input=record.input,
                            record=record.index, path="kind")
        if validate:  # read_records has screened for NaN/Inf already
            package = validated_package(value, input=record.input, index=record.index)
        else:
            package = EditPackage.from_record(value, input=record.input, index=record.index)
        yield package, record.input, record.index


def load_edits(records: Iterable, bounds: Bounds, *, clip: bool, validate: bool = True) -> list[LoadedEdit]:
    """Every record of an edit file as a `LoadedEdit` (each must be a PAT_EDIT)."""
    with collector_paused():  # edits are large and acyclic: see collector_paused
        return [load_edit(package, bounds, clip=clip, input=name, index=index)
                for package, name, index in edit_packages(records, validate=validate)]


@dataclass
class ApplyTally:
    frames_changed: int = 0
    clips: int = 0
    skipped: int = 0


class EditApplier:
    """Applies loaded edits to PAT_FRAME records given as their envelope and token columns
    (bounds act in `load_edit`)."""

    def __init__(self, edits: list[LoadedEdit], *, lenient: bool = False, recode: bool = False) -> None:
        self.edits = edits
        self.lenient = lenient
        self.recode = recode
        self.tally = ApplyTally()
        self._by_seed: dict[int, list[LoadedEdit]] = {}
        self._frames_by_seed: dict[int, set[int]] = {}  # seed → every frame an edit names
        for edit in edits:
            self._by_seed.setdefault(edit.package.seed, []).append(edit)
            self._frames_by_seed.setdefault(edit.package.seed, set()).update(edit.frames)
        self._seen_sims: dict[int, list[dict]] = {}  # seed → the distinct sim blocks of its frames

    def may_target(self, envelope: dict) -> bool:
        """Whether an edit may change this record: a PAT_FRAME whose seed and frame an edit
        names (its sim is checked when the edits apply). Other records need no tokens read."""
        seed = envelope.get("seed")
        frames = self._frames_by_seed.get(seed) if type(seed) in _KEYS else None
        if frames is None:
            return False
        frame = envelope.get("frame")
        return type(frame) in _KEYS and frame in frames and envelope.get("kind") == "PAT_FRAME"

    def _targets(self, record: dict) -> Iterator[tuple[LoadedEdit, FrameEdit]]:
        """The edits (in edit-file order) with a target on this PAT_FRAME record, noting what was seen."""
        seed, sim, frame = record.get("seed"), record.get("sim"), record.get("frame")
        if record.get("kind") != "PAT_FRAME" or type(seed) not in _KEYS:
            return
        sims = self._seen_sims.setdefault(seed, [])
        if sim not in sims:  # dict equality: same as comparing frozen forms
            sims.append(sim)
        for edit in self._by_seed.get(seed, ()):
            if edit.package.sim != sim:
                continue
            edit.matched = True
            target = edit.frames.get(frame) if type(frame) in _KEYS else None
            if target is None:
                continue
            edit.seen_frames.add(frame)
            yield edit, target

    def observe(self, record: dict) -> None:
        """Note a record no edit targets (its seed and sim), for ``unmatched``."""
        for _ in self._targets(record):
            raise RuntimeError("observe() was given a record an edit targets")

    def _count(self, target: FrameEdit, skipped: int) -> None:
        self.tally.clips += target.clips
        self.tally.skipped += skipped

    def apply_frame(self, record: dict, tokens: TokenFrame | None) -> tuple[TokenFrame, list] | None:
        """The edits applied to one frame, ``record`` its envelope and ``tokens`` its
        columns (None only for a record ``may_target`` turns down: then it is only noted):
        the edited columns and, for each edit that changed the frame (in order), the (edit,
        target, ApplyResult); None when no edit changed it. No edit block is built (see
        ``edited_envelope`` and ``block_parts``)."""
        current = tokens
        changes = []
        for edit, target in self._targets(record):
            with _located(edit, record):
                rows, batch, skipped = located(current, target.batch, lenient=self.lenient)
            result = apply_located(current, rows, batch, heads=target.heads, recode=self.recode)
            self._count(target, skipped)
            if len(result.rows):
                current = result.tokens
                changes.append((edit, target, result))
        if not changes:
            return None
        self.tally.frames_changed += 1
        return current, changes

    def apply_frames(self, items: list[tuple[dict, TokenFrame | None]]) -> list[tuple[TokenFrame, list] | None]:
        """``apply_frame`` for each (record, columns) in order, the frames of
        each round of edits applied together (pattools.edit.stacked). Results, tallies and
        the first error are those of going frame after frame."""
        pairs = [list(self._targets(record)) for record, _ in items]
        tokens = [columns for _, columns in items]
        if any(frame_pairs and columns is None for frame_pairs, columns in zip(pairs, tokens)):
            raise RuntimeError("apply_frames() was given no columns for a frame an edit targets")
        changes: list[list] = [[] for _ in items]
        try:
            for k in range(max(map(len, pairs), default=0)):
                self._round(k, pairs, [record for record, _ in items], tokens, changes)
        except DataError:
            self._raise_first_error(items)
            raise
        self.tally.frames_changed += sum(1 for c in changes if c)
        return [(tokens[i], changes[i]) if changes[i] else None for i in range(len(items))]

    def _round(self, k: int, pairs: list, records: list[dict], tokens: list[TokenFrame], changes: list[list]) -> None:
        """Apply the k-th edit of every frame that has one."""
        groups: dict[tuple, list[tuple[int, Located]]] = {}
        for i, frame_pairs in enumerate(pairs):
            if len(frame_pairs) <= k:
                continue
            edit, target = frame_pairs[k]
            key = layout_key(tokens[i]) if target.heads is None else None
            try:
                rows, batch, skipped = located(tokens[i], target.batch, lenient=self.lenient)
            except DataError as error:  # (not a context manager: this runs per frame)
                raise _frame_error(error, edit, records[i]) from None
            self._count(target, skipped)
            groups.setdefault(key, []).append((i, Located(tokens[i], rows, batch)))
        for key, members in groups.items():
            if key is None:  # head hints or heads on the frame: one by one
                results = [apply_located(item.tokens, item.rows, item.batch, heads=pairs[i][k][1].heads,
                                         recode=self.recode) for i, item in members]
            else:
                results = apply_stacked([item for _, item in members], recode=self.recode)
            for (i, _), result in zip(members, results):
                if len(result.rows):
                    edit, target = pairs[i][k]
                    tokens[i] = result.tokens
                    changes[i].append((edit, target, result))

    def _raise_first_error(self, items: list[tuple[dict, TokenFrame]]) -> None:
        """Re-run frame by frame on a scratch applier to raise the error sequential application meets first."""
        scratch = EditApplier(self.edits, lenient=self.lenient, recode=self.recode)
        for record, columns in items:
            scratch.apply_frame(record, columns)

    def unmatched(self) -> list[DataError]:
        """One error per edit whose seed, sim or target frames never appeared in the input."""
        problems = []
        for edit in self.edits:
            package = edit.package
            where = {"input": edit.input, "record": edit.index}
            if not edit.matched:
                sims = self._seen_sims.get(package.seed)
                if not sims:
                    seen = ", ".join(str(s) for s in sorted(self._seen_sims)) or "none"
                    problems.append(DataError(
                        f"no frames of seed {package.seed} in the input (seeds seen: {seen})", path="seed", **where))
                else:
                    path, message = _sim_difference(package.sim, sims[0])
                    problems.append(DataError(message, path=path, **where))
                continue
            missing = sorted(set(edit.frames) - edit.seen_frames)
            if missing:
                first = edit.frames[missing[0]].target_index
                more = f" (and {len(missing) - 1} more target frames)" if len(missing) > 1 else ""
                problems.append(DataError(
                    f"frame {missing[0]} of seed {package.seed} is not in the input{more}",
                    path=f"targets[{first}].frame", **where))
        return problems


def _sim_difference(edit_sim: dict, frame_sim: dict) -> tuple[str, str]:
    """The first sim field where an edit differs from the frames of its seed."""
    for name in sorted(set(edit_sim) | set(frame_sim)):
        mine, theirs = edit_sim.get(name), frame_sim.get(name)
        if mine != theirs:
            return f"sim.{name}", f"expected {theirs!r} (as the input's frames of this seed), got {mine!r}"
    return "sim", "no frames with this sim block in the input"


@contextmanager
def _located(edit: LoadedEdit, record: dict):
    """Data errors while applying ``edit`` name the edit record and the frame."""
    try:
        yield
    except DataError as error:
        raise _frame_error(error, edit, record) from None


def _frame_error(error: DataError, edit: LoadedEdit, record: dict) -> DataError:
    error.message = f"{error.message} (in frame {record['frame']} of seed {record['seed']})"
    return error.located(input=edit.input, record=edit.index)


def block_parts(changes: list) -> tuple[str, list, list | None]:
    """What the edit block of a frame without one holds after ``changes`` (in order): the
    ids joined with "+", every change's effective deltas, the latest head hints."""
    heads = None
    for _, target, _ in changes:
        heads = target.heads if target.heads is not None else heads
    return "+".join(edit.package.id for edit, _, _ in changes), [result.effective for _, _, result in changes], heads


def edited_envelope(record: dict, changes: list) -> dict:
    """The record without its tokens, with the edit block after ``changes`` (in order)."""
    envelope = {name: value for name, value in record.items() if name != "tokens"}
    for edit, target, result in changes:
        envelope["edit"] = edit_block(envelope.get("edit"), edit.package.id, result.applied, target.heads)
    return envelope
