"""Packing prompts and PAT token windows into training records (docs/editing.md §3).

A window around edit frame T holds the K frames before it as inputs (T−K … T−1) and the
H frames T … T+H−1 as the target horizon. T comes from a prompt's ``frame``, or slides
over the sequence from its first frame + K in steps of the stride. A window whose frames
are not all in the sequence (it runs past the end, or before the start, or over a gap)
is dropped and counted, never padded.

Targets are empty (``none``: pairless, for reward-driven training), the baseline
editor's ΔPAT as pseudo-labels (``baseline``), or taken from edit packages (``file``):
every PAT_EDIT of the sequence's seed and sim whose prompt is the record's (or that has
no prompt) contributes its targets on the horizon frames, in file order.

Splits are by group, never by window: windows of one seed overlap, so a per-window split
would put the same frames in training and validation records. The group is the seed
(``split_by="seed"``, default) or the prompt (its id); with fractions ``name=f, ...`` a group
goes to the first name whose cumulative fraction exceeds u = (first 8 bytes of
sha256("<seed>") or sha256("<prompt id>"), big endian) / 2^64, else to "train". By seed,
no frame of one split appears in another; by prompt, a prompt is held out whole (its
frames are shared with other prompts' records).

Tensors (``npz``): pattools.edit.pack_tensors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field


from pattools.edit.dpat import EditPackage, Target
from pattools.errors import DataError
from pattools.tokens.frame import TokenFrame

TARGET_MODES: tuple[str, ...] = ("none", "baseline", "file")
DEFAULT_SPLIT = "train"


@dataclass(frozen=True)
class Window:
    context: int  # K ≥ 1 input frames before the edit frame
    horizon: int  # H ≥ 1 target frames from the edit frame on
    stride: int | None = None  # between sliding edit frames (default: the horizon)

    def span(self, edit_frame: int) -> range:
        return range(edit_frame - self.context, edit_frame + self.horizon)

    def edit_frames(self, frames: Sequence[int], fixed: int | None) -> tuple[list[int], int]:
        """Edit frames T of the complete windows over ``frames``, and how many were dropped."""
        present = set(frames)
        if fixed is not None:
            candidates = [fixed]
        elif frames:
            step = self.stride or self.horizon
            candidates = list(range(frames[0] + self.context, frames[-1] + 1, step))
        else:
            candidates = []
        kept = [t for t in candidates if all(f in present for f in self.span(t))]
        return kept, len(candidates) - len(kept)


def parse_split(text: str) -> list[tuple[str, float]]:
    """``val=0.1[,test=0.05]`` → [(name, fraction)]; fractions in [0, 1] summing to ≤ 1."""
    parts = []
    total = 0.0
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            fraction = float(value)
        except ValueError:
            fraction = -1.0
        if not sep or not name or not 0.0 <= fraction <= 1.0:
            raise ValueError(f"expected NAME=FRACTION with a fraction in [0, 1], got {item!r}")
        total += fraction
        parts.append((name, fraction))
    if total > 1.0 + 1e-12:
        raise ValueError(f"split fractions add up to {total:g} (more than 1)")
    return parts


SPLIT_BY: tuple[str, ...] = ("seed", "prompt")


def split_group(seed: int, prompt_id: str, split_by: str = "seed") -> str:
    """The text whose hash decides a record's split: "<seed>" or "<prompt id>"."""
    return str(seed) if split_by == "seed" else prompt_id


def assign_split(group: str, fractions: Sequence[tuple[str, float]]) -> str:
    """The split of a group: by sha256(group), never by Python's hash()."""
    digest = hashlib.sha256(group.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    edge = 0.0
    for name, fraction in fractions:
        edge += fraction
        if u < edge:
            return name
    return DEFAULT_SPLIT


def prompt_key(prompt: str, ident: str | None) -> str:
    """A prompt's id, or the first 12 hex of sha256(prompt)."""
    return ident if ident is not None else hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:12]


@dataclass
class PackPrompt:
    prompt: str
    id: str | None = None
    seed: int | None = None
    frame: int | None = None


def prompts_from_edits(edits: Sequence[EditPackage]) -> list[PackPrompt]:
    """One prompt per edit package (its prompt, id and seed; T = its first target frame)."""
    out = []
    for package in edits:
        first = min((t.frame for t in package.targets), default=None)
        out.append(PackPrompt(package.prompt or "", package.id, package.seed, first))
    return out


class EditIndex:
    """Edit packages by (seed, sim) for ``--targets FILE``."""

    def __init__(self, edits: Sequence[tuple[EditPackage, str | None, int | None]]) -> None:
        self._by_seed: dict[int, list[tuple[EditPackage, str | None, int | None]]] = {}
        for item in edits:
            self._by_seed.setdefault(item[0].seed, []).append(item)

    def matching(self, seed: int, sim: dict, prompt: str) -> list[tuple[EditPackage, str | None, int | None]]:
        return [item for item in self._by_seed.get(seed, [])
                if item[0].sim == sim and (item[0].prompt is None or item[0].prompt == prompt)]


@dataclass
class PackedWindow:
    """One training record, with what the tensor export needs besides the record."""

    record: dict
    edit_frame: int
    input_tokens: list[TokenFrame]
    horizon_tokens: list[TokenFrame]
    horizon_frames: list[int]
    targets: list[tuple[Target, str | None, int | None]] = field(default_factory=list)  # (target, input, index)
    # (input, record index) of each input frame, then of each horizon frame, when known
    sources: list[tuple[str, int] | None] = field(default_factory=list)


@dataclass
class PackTally:
    records: int = 0
    dropped: int = 0  # windows not wholly inside their sequence
    unused_prompts: int = 0  # prompts that made no record (seed not in the input, or no whole window)


def pack_sequence(
    seed: int,
    sim: dict,
    frames: list[int],
    tokens: list[TokenFrame],
    prompts: Sequence[PackPrompt],
    window: Window,
    *,
    targets: str = "none",
    edits: EditIndex | None = None,
    baseline=None,
    split: Sequence[tuple[str, float]] | None = None,
    split_by: str = "seed",
    tally: PackTally | None = None,
    used: set[int] | None = None,
    sources: Sequence[tuple[str, int]] | None = None,
) -> Iterator[PackedWindow]:
    """The records of one sequence: for each prompt (in order) its windows (in frame order).

    ``tokens`` are the frames' token columns (written into ``inputs`` as PAToken maps, made
    once per frame); ``baseline(horizon, sim, seed, prompt)`` returns the pseudo-label
    EditPackage for ``targets="baseline"``. ``used`` collects the indices of prompts that
    made a record. ``sources``: each frame's (input, record index), for messages.
    """
    tally = tally if tally is not None else PackTally()
    position = {f: i for i, f in enumerate(frames)}
    token_maps: list[list[dict] | None] = [None] * len(tokens)

    def maps_of(i: int) -> list[dict]:
        if token_maps[i] is None:
            token_maps[i] = tokens[i].to_tokens()
        return token_maps[i]
    for p, spec in enumerate(prompts):
        if spec.seed is not None and spec.seed != seed:
            continue
        starts, dropped = window.edit_frames(frames, spec.frame)
        tally.dropped += dropped
        for t in starts:
            key = prompt_key(spec.prompt, spec.id)
            record_id = f"{key}-{seed}-{t}"
            inputs = [position[f] for f in range(t - window.context, t)]
            horizon = [position[f] for f in range(t, t + window.horizon)]
            horizon_frames = [frames[i] for i in horizon]
            record: dict = {"kind": "PAT_PACK", "version": 1, "id": record_id, "prompt": spec.prompt,
                            "seed": seed, "sim": sim,
                            "inputs": [{"frame": frames[i], "tokens": maps_of(i)} for i in inputs],
                            "targets": []}
            packed = PackedWindow(record, t, [tokens[i] for i in inputs], [tokens[i] for i in horizon],
                                  horizon_frames,
                                  sources=[] if sources is None else [sources[i] for i in inputs + horizon])
            intents = _attach_targets(packed, targets, edits, baseline, seed, sim, spec.prompt, window.horizon)
            record["targets"] = [target.to_record() for target, _, _ in packed.targets]
            if intents is not None:
                record["intents"] = intents
            if split is not None:
                record["split"] = assign_split(split_group(seed, key, split_by), split)
            tally.records += 1
            if used is not None:
                used.add(p)
            yield packed


def _attach_targets(packed: PackedWindow, targets: str, edits: EditIndex | None, baseline, seed: int, sim: dict,
                    prompt: str, horizon: int) -> list | None:
    """Give the window its targets (from the edits file or the baseline editor) and return
    the intents that go with them, if any."""
    t = packed.edit_frame
    intents = None
    if targets == "file":
        for package, where, index in (edits.matching(seed, sim, prompt) if edits else []):
            for target in package.targets:
                if t <= target.frame < t + horizon:
                    packed.targets.append((target, where, index))
            if intents is None and package.intents is not None:
                intents = package.intents
    elif targets == "baseline":
        package = baseline(list(zip(packed.horizon_frames, packed.horizon_tokens)), sim, seed, prompt)
        packed.targets = [(target, None, None) for target in package.targets]
        intents = package.intents
    return intents
